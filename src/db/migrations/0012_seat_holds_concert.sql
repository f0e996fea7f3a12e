-- A hold's concert on the hold itself (docs/decisions/0052): until now a concert's holds and sales
-- were found only through its seats, so the sections' summary, the seat map and the ticket-limit
-- count joined every seat of the concert (20,000 for an arena) or every hold of every concert.
ALTER TABLE "seat_holds" ADD COLUMN "concert_id" bigint;--> statement-breakpoint
UPDATE "seat_holds" h SET "concert_id" = s."concert_id" FROM "seats" s WHERE s."id" = h."seat_id";--> statement-breakpoint
ALTER TABLE "seat_holds" ALTER COLUMN "concert_id" SET NOT NULL;--> statement-breakpoint
CREATE INDEX "seat_holds_concert_idx" ON "seat_holds" USING btree ("concert_id");--> statement-breakpoint
-- The copy is the database's, never the writer's: every row written or moved to a seat takes that
-- seat's concert, whatever concert_id the statement sent (a seat never changes concert). Named to
-- run before seat_holds_ticket_limit (same timing, name order), which counts by it.
CREATE FUNCTION "seat_holds_concert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.concert_id := (SELECT s.concert_id FROM seats s WHERE s.id = NEW.seat_id);
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER "seat_holds_concert" BEFORE INSERT OR UPDATE OF "seat_id", "concert_id" ON "seat_holds" FOR EACH ROW EXECUTE FUNCTION "seat_holds_concert"();--> statement-breakpoint
-- The ticket limit (0009, 0041) unchanged in what it counts and under which lock; the buyer's
-- rows of the concert are now found by their concert_id instead of a join through seats.
CREATE OR REPLACE FUNCTION "seat_holds_ticket_limit"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  seat_limit integer;
  taken integer;
BEGIN
  PERFORM pg_advisory_xact_lock(7284113, hashtext(NEW.user_id::text));
  SELECT c.ticket_limit INTO seat_limit FROM concerts c WHERE c.id = NEW.concert_id;
  SELECT count(*) INTO taken FROM seat_holds h
    WHERE h.user_id = NEW.user_id AND h.concert_id = NEW.concert_id AND h.seat_id <> NEW.seat_id
      AND (h.status = 'HELD' OR seat_limit > 1);
  IF taken >= seat_limit THEN
    RAISE EXCEPTION 'user % has % of the % seats concert % allows per buyer', NEW.user_id, taken, seat_limit, NEW.concert_id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'seat_holds_ticket_limit';
  END IF;
  RETURN NEW;
END $$;
