CREATE TABLE "queue_counter" (
	"id" integer PRIMARY KEY NOT NULL,
	"last_arrival" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "queue_skipped_arrivals" (
	"arrival" bigint PRIMARY KEY NOT NULL
);
--> statement-breakpoint
DROP INDEX "queue_tokens_waiting_idx";--> statement-breakpoint
ALTER TABLE "queue_tokens" ADD COLUMN "arrival" bigint;--> statement-breakpoint
CREATE INDEX "queue_tokens_waiting_arrival_idx" ON "queue_tokens" USING btree ("arrival") WHERE "queue_tokens"."status" = 'WAITING';--> statement-breakpoint
CREATE INDEX "queue_tokens_departed_arrival_idx" ON "queue_tokens" USING btree ("arrival") WHERE "queue_tokens"."status" = 'EXPIRED' AND "queue_tokens"."activated_at" IS NULL;--> statement-breakpoint
-- Tokens from before this migration get arrivals in their id order, and the counter continues after them.
UPDATE "queue_tokens" q SET "arrival" = r.n FROM (SELECT "id", row_number() OVER (ORDER BY "id") AS n FROM "queue_tokens") r WHERE q."id" = r."id";--> statement-breakpoint
INSERT INTO "queue_counter" ("id", "last_arrival") SELECT 1, coalesce(max("arrival"), 0) FROM "queue_tokens";
