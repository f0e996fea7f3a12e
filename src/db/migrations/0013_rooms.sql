CREATE TABLE "rooms" (
	"concert_id" bigint PRIMARY KEY NOT NULL,
	"max_active" integer NOT NULL,
	"admission_per_minute" integer,
	"state" text DEFAULT 'open' NOT NULL,
	"allowance" double precision DEFAULT 1 NOT NULL,
	"allowance_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rooms_state" CHECK ("rooms"."state" IN ('open', 'paused', 'queue-all', 'closed')),
	CONSTRAINT "rooms_max_active" CHECK ("rooms"."max_active" BETWEEN 1 AND 100000),
	CONSTRAINT "rooms_admission_rate" CHECK ("rooms"."admission_per_minute" BETWEEN 1 AND 1000000)
);
--> statement-breakpoint
DROP INDEX "queue_tokens_live_user_key";--> statement-breakpoint
DROP INDEX "queue_tokens_waiting_arrival_idx";--> statement-breakpoint
DROP INDEX "queue_tokens_departed_arrival_idx";--> statement-breakpoint
ALTER TABLE "queue_counter" ALTER COLUMN "id" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "queue_skipped_arrivals" ADD COLUMN "room_id" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "queue_skipped_arrivals" DROP CONSTRAINT "queue_skipped_arrivals_pkey";--> statement-breakpoint
ALTER TABLE "queue_skipped_arrivals" ADD CONSTRAINT "queue_skipped_arrivals_room_id_arrival_pk" PRIMARY KEY("room_id","arrival");--> statement-breakpoint
ALTER TABLE "queue_tokens" ADD COLUMN "room_id" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rooms" ADD CONSTRAINT "rooms_concert_id_concerts_id_fk" FOREIGN KEY ("concert_id") REFERENCES "public"."concerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "rooms_updated_at_idx" ON "rooms" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "queue_tokens_active_room_idx" ON "queue_tokens" USING btree ("room_id") WHERE "queue_tokens"."status" = 'ACTIVE';--> statement-breakpoint
CREATE UNIQUE INDEX "queue_tokens_live_user_key" ON "queue_tokens" USING btree ("room_id","user_id") WHERE "queue_tokens"."status" IN ('WAITING', 'ACTIVE');--> statement-breakpoint
CREATE INDEX "queue_tokens_waiting_arrival_idx" ON "queue_tokens" USING btree ("room_id","arrival") WHERE "queue_tokens"."status" = 'WAITING';--> statement-breakpoint
CREATE INDEX "queue_tokens_departed_arrival_idx" ON "queue_tokens" USING btree ("room_id","arrival") WHERE "queue_tokens"."status" = 'EXPIRED' AND "queue_tokens"."activated_at" IS NULL;