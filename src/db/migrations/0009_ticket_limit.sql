DROP INDEX "seat_holds_held_user_key";--> statement-breakpoint
CREATE INDEX "seat_holds_user_idx" ON "seat_holds" USING btree ("user_id");--> statement-breakpoint
-- The ticket limit per buyer (docs/decisions/0041), in the database: a HELD row may be written
-- only while the buyer's other rows of that concert stay under concerts.ticket_limit. At limit 1
-- they are the buyer's other HELD rows (the seed's "one hold per user": paid seats do not count,
-- so a buyer who queues again may buy again, as the seed allows); above 1, held and sold seats
-- both count (a refund deletes the SOLD row, so refunded seats do not). The buyer's holds take
-- turns on the hold transaction's own per-user lock (re-entrant there), so each count sees every
-- committed row of that buyer, whichever instance wrote it.
CREATE FUNCTION "seat_holds_ticket_limit"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  concert bigint;
  seat_limit integer;
  taken integer;
BEGIN
  PERFORM pg_advisory_xact_lock(7284113, hashtext(NEW.user_id::text));
  SELECT s.concert_id, c.ticket_limit INTO concert, seat_limit
    FROM seats s JOIN concerts c ON c.id = s.concert_id WHERE s.id = NEW.seat_id;
  SELECT count(*) INTO taken FROM seat_holds h JOIN seats s ON s.id = h.seat_id
    WHERE h.user_id = NEW.user_id AND s.concert_id = concert AND h.seat_id <> NEW.seat_id
      AND (h.status = 'HELD' OR seat_limit > 1);
  IF taken >= seat_limit THEN
    RAISE EXCEPTION 'user % has % of the % seats concert % allows per buyer', NEW.user_id, taken, seat_limit, concert
      USING ERRCODE = 'check_violation', CONSTRAINT = 'seat_holds_ticket_limit';
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER "seat_holds_ticket_limit" BEFORE INSERT OR UPDATE OF "user_id", "status" ON "seat_holds" FOR EACH ROW WHEN (NEW.status = 'HELD') EXECUTE FUNCTION "seat_holds_ticket_limit"();
