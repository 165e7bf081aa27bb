/**
 * Scale-out (design.md, "Scale-out"): which instance owns each ownership partition, and the fence
 * every journal commit and payment transaction checks in the same statement or transaction.
 *
 * `epoch` is raised by one each time another instance (or another incarnation of one) takes the
 * partition; only the claimer learns the new value, so at most one process holds the current
 * epoch. `ovation_assert_fences` takes a shared advisory lock per partition it checks (held to the
 * end of the caller's transaction), then reads the epochs with a fresh snapshot; a claim takes the
 * same locks exclusively before it raises the epoch. So a claim waits for the commits that passed
 * the check, and a commit that checks after the claim sees the new epoch and fails with SQLSTATE
 * OVF01: the new owner's recovery, which reads the journal after its claim, sees every event the
 * old owner ever committed. Advisory locks live in shared memory: no row lock, no WAL record, no
 * MultiXact on every commit (a FOR SHARE row lock costs all three). Empty arrays (one instance)
 * check nothing.
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
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  held integer;
  wanted integer;
  p integer;
BEGIN
  IF coalesce(cardinality(partitions), 0) = 0 THEN
    RETURN true;
  END IF;
  -- In one order, as the claims take them: no deadlock. 79 is ovation's namespace of fence locks.
  FOR p IN SELECT DISTINCT x FROM unnest(partitions) AS x ORDER BY x LOOP
    PERFORM pg_advisory_xact_lock_shared(79, p);
  END LOOP;
  -- Each statement of a VOLATILE function takes a new snapshot: a claim committed while we
  -- waited for its lock is seen here.
  SELECT count(*) INTO wanted FROM (SELECT DISTINCT p2, e FROM unnest(partitions, epochs) AS f(p2, e)) AS pairs;
  SELECT count(*) INTO held FROM partition_owners po
  WHERE (po.partition, po.epoch) IN (SELECT p2, e FROM unnest(partitions, epochs) AS f(p2, e));
  IF held <> wanted THEN
    RAISE EXCEPTION 'ownership fenced: another instance owns one of the partitions %', partitions USING ERRCODE = 'OVF01';
  END IF;
  RETURN true;
END
$$;
`;
