/**
 * Scale-out (design.md, "Scale-out"): which instance owns each ownership partition, and the fence
 * every journal commit and payment transaction checks in the same statement or transaction.
 *
 * `epoch` is raised by one each time another instance (or another incarnation of one) takes the
 * partition; only the claimer learns the new value, so at most one process holds the current
 * epoch. `ovation_assert_fences` locks the rows it checks FOR SHARE: a claim (an UPDATE of the
 * epoch) waits for the commits that passed the check, and a commit that checks after the claim
 * fails with SQLSTATE OVF01. So the new owner's recovery, which reads the journal after its claim,
 * sees every event the old owner ever committed. Empty arrays (one instance) check nothing.
 */
export const partitionOwners = `
CREATE TABLE partition_owners (
  partition   integer PRIMARY KEY CHECK (partition >= 0),
  epoch       bigint NOT NULL CHECK (epoch > 0),
  owner_url   text NOT NULL CHECK (length(owner_url) BETWEEN 1 AND 300),
  incarnation uuid NOT NULL,
  generation  integer,
  claimed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION ovation_assert_fences(partitions integer[], epochs bigint[]) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  held integer;
  wanted integer;
BEGIN
  IF coalesce(cardinality(partitions), 0) = 0 THEN
    RETURN true;
  END IF;
  SELECT count(*) INTO wanted FROM (SELECT DISTINCT p, e FROM unnest(partitions, epochs) AS f(p, e)) AS pairs;
  SELECT count(*) INTO held FROM (
    SELECT po.partition FROM partition_owners po
    WHERE (po.partition, po.epoch) IN (SELECT p, e FROM unnest(partitions, epochs) AS f(p, e))
    FOR SHARE OF po
  ) AS current_owner;
  IF held <> wanted THEN
    RAISE EXCEPTION 'ownership fenced: another instance owns one of the partitions %', partitions USING ERRCODE = 'OVF01';
  END IF;
  RETURN true;
END
$$;
`;
