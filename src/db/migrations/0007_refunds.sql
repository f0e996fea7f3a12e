ALTER TABLE "point_transactions" DROP CONSTRAINT "point_transactions_type";--> statement-breakpoint
DROP INDEX "reservations_seat_key";--> statement-breakpoint
ALTER TABLE "reservations" ADD COLUMN "cancelled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "reservations" ADD COLUMN "cancelled_by" text;--> statement-breakpoint
ALTER TABLE "reservations" ADD COLUMN "refund_amount" bigint;--> statement-breakpoint
CREATE UNIQUE INDEX "point_transactions_refund_key" ON "point_transactions" USING btree ("reservation_id") WHERE "point_transactions"."type" = 'REFUND';--> statement-breakpoint
CREATE UNIQUE INDEX "reservations_seat_key" ON "reservations" USING btree ("seat_id") WHERE "reservations"."cancelled_at" IS NULL;--> statement-breakpoint
ALTER TABLE "point_transactions" ADD CONSTRAINT "point_transactions_reservation" CHECK (("point_transactions"."type" = 'CHARGE') = ("point_transactions"."reservation_id" IS NULL));--> statement-breakpoint
ALTER TABLE "point_transactions" ADD CONSTRAINT "point_transactions_type" CHECK ("point_transactions"."type" IN ('CHARGE', 'USE', 'REFUND'));--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_cancellation" CHECK (("reservations"."cancelled_at" IS NULL AND "reservations"."cancelled_by" IS NULL AND "reservations"."refund_amount" IS NULL)
        OR ("reservations"."cancelled_at" IS NOT NULL AND "reservations"."cancelled_by" IS NOT NULL AND "reservations"."refund_amount" IS NOT NULL
          AND "reservations"."cancelled_by" IN ('buyer', 'operator')
          AND "reservations"."refund_amount" >= 0 AND "reservations"."refund_amount" <= "reservations"."price"));--> statement-breakpoint
-- A reservation never changes after the payment, except once: its cancellation (cancelled_at,
-- cancelled_by and refund_amount set together). Refused otherwise, whoever writes the SQL.
CREATE FUNCTION "reservations_cancel_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.id, NEW.reservation_uuid, NEW.user_id, NEW.concert_id, NEW.seat_id, NEW.price, NEW.created_at)
       IS DISTINCT FROM (OLD.id, OLD.reservation_uuid, OLD.user_id, OLD.concert_id, OLD.seat_id, OLD.price, OLD.created_at) THEN
    RAISE EXCEPTION 'reservation % may only be cancelled, not changed', OLD.id USING ERRCODE = 'check_violation', CONSTRAINT = 'reservations_cancel_only';
  END IF;
  IF OLD.cancelled_at IS NOT NULL THEN
    RAISE EXCEPTION 'reservation % is already cancelled', OLD.id USING ERRCODE = 'check_violation', CONSTRAINT = 'reservations_cancel_only';
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER "reservations_cancel_only" BEFORE UPDATE ON "reservations" FOR EACH ROW EXECUTE FUNCTION "reservations_cancel_only"();--> statement-breakpoint
-- A cancelled reservation frees exactly its seat: at commit, its seat has no SOLD hold left
-- (unless a live reservation holds it again) ...
CREATE FUNCTION "reservations_cancel_frees_seat"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM seat_holds h WHERE h.seat_id = NEW.seat_id AND h.status = 'SOLD')
     AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.seat_id = NEW.seat_id AND r.cancelled_at IS NULL) THEN
    RAISE EXCEPTION 'reservation % was cancelled but seat % is still sold', NEW.id, NEW.seat_id USING ERRCODE = 'check_violation', CONSTRAINT = 'reservations_cancel_frees_seat';
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "reservations_cancel_frees_seat" AFTER UPDATE ON "reservations" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.cancelled_at IS NULL AND NEW.cancelled_at IS NOT NULL) EXECUTE FUNCTION "reservations_cancel_frees_seat"();--> statement-breakpoint
-- ... and no other: a SOLD hold leaves (deleted or changed) only when no live reservation holds its seat.
CREATE FUNCTION "seat_holds_sold_stays"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM reservations r WHERE r.seat_id = OLD.seat_id AND r.cancelled_at IS NULL)
     AND NOT EXISTS (SELECT 1 FROM seat_holds h WHERE h.seat_id = OLD.seat_id AND h.status = 'SOLD') THEN
    RAISE EXCEPTION 'seat % was freed while its reservation is live', OLD.seat_id USING ERRCODE = 'check_violation', CONSTRAINT = 'seat_holds_sold_stays';
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "seat_holds_sold_deleted" AFTER DELETE ON "seat_holds" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.status = 'SOLD') EXECUTE FUNCTION "seat_holds_sold_stays"();--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "seat_holds_sold_changed" AFTER UPDATE ON "seat_holds" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.status = 'SOLD' AND (NEW.status <> 'SOLD' OR NEW.seat_id <> OLD.seat_id)) EXECUTE FUNCTION "seat_holds_sold_stays"();
