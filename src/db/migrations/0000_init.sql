CREATE TABLE "concert_ranking" (
	"concert_id" bigint PRIMARY KEY NOT NULL,
	"confirmed_count" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "concerts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"venue" text NOT NULL,
	"show_datetime" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_deliveries" (
	"consumer" text NOT NULL,
	"event_id" uuid NOT NULL,
	"event" jsonb NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"replays" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "event_deliveries_consumer_event_id_pk" PRIMARY KEY("consumer","event_id"),
	CONSTRAINT "event_deliveries_status" CHECK ("event_deliveries"."status" IN ('PENDING', 'DEAD'))
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"user_id" bigint NOT NULL,
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_user_id_scope_key_pk" PRIMARY KEY("user_id","scope","key")
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" uuid NOT NULL,
	"type" text NOT NULL,
	"key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "outbox_relay_leases" (
	"shard" integer PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"lease_until" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "point_transactions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"type" text NOT NULL,
	"amount" bigint NOT NULL,
	"balance_after" bigint NOT NULL,
	"reservation_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "point_transactions_amount_positive" CHECK ("point_transactions"."amount" > 0),
	CONSTRAINT "point_transactions_type" CHECK ("point_transactions"."type" IN ('CHARGE', 'USE'))
);
--> statement-breakpoint
CREATE TABLE "processed_events" (
	"consumer" text NOT NULL,
	"event_id" uuid NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processed_events_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE TABLE "queue_tokens" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"token" text NOT NULL,
	"user_id" bigint NOT NULL,
	"status" text NOT NULL,
	"entered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"activated_at" timestamp with time zone,
	"active_until" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"hold_concert_id" bigint,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expired_at" timestamp with time zone,
	CONSTRAINT "queue_tokens_status" CHECK ("queue_tokens"."status" IN ('WAITING', 'ACTIVE', 'EXPIRED')),
	CONSTRAINT "queue_tokens_active_has_expiry" CHECK ("queue_tokens"."status" <> 'ACTIVE' OR ("queue_tokens"."expires_at" IS NOT NULL AND "queue_tokens"."active_until" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "reservations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"reservation_uuid" uuid NOT NULL,
	"user_id" bigint NOT NULL,
	"concert_id" bigint NOT NULL,
	"seat_id" bigint NOT NULL,
	"price" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "seat_holds" (
	"seat_id" bigint PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"hold_uuid" uuid NOT NULL,
	"status" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "seat_holds_status" CHECK ("seat_holds"."status" IN ('HELD', 'SOLD'))
);
--> statement-breakpoint
CREATE TABLE "seats" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"concert_id" bigint NOT NULL,
	"seat_number" integer NOT NULL,
	"price" bigint NOT NULL,
	CONSTRAINT "seats_number_positive" CHECK ("seats"."seat_number" >= 1),
	CONSTRAINT "seats_price_positive" CHECK ("seats"."price" > 0)
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" bigint PRIMARY KEY NOT NULL,
	"balance" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_balance_non_negative" CHECK ("users"."balance" >= 0)
);
--> statement-breakpoint
ALTER TABLE "concert_ranking" ADD CONSTRAINT "concert_ranking_concert_id_concerts_id_fk" FOREIGN KEY ("concert_id") REFERENCES "public"."concerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "point_transactions" ADD CONSTRAINT "point_transactions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_concert_id_concerts_id_fk" FOREIGN KEY ("concert_id") REFERENCES "public"."concerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_seat_id_seats_id_fk" FOREIGN KEY ("seat_id") REFERENCES "public"."seats"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seat_holds" ADD CONSTRAINT "seat_holds_seat_id_seats_id_fk" FOREIGN KEY ("seat_id") REFERENCES "public"."seats"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seats" ADD CONSTRAINT "seats_concert_id_concerts_id_fk" FOREIGN KEY ("concert_id") REFERENCES "public"."concerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "concert_ranking_count_idx" ON "concert_ranking" USING btree ("confirmed_count" DESC NULLS LAST,"concert_id");--> statement-breakpoint
CREATE INDEX "event_deliveries_due_idx" ON "event_deliveries" USING btree ("next_attempt_at") WHERE "event_deliveries"."status" = 'PENDING';--> statement-breakpoint
CREATE INDEX "event_deliveries_dead_idx" ON "event_deliveries" USING btree ("updated_at") WHERE "event_deliveries"."status" = 'DEAD';--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_event_id_key" ON "outbox" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "outbox_unsent_idx" ON "outbox" USING btree ("id") WHERE "outbox"."published_at" IS NULL;--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "outbox" USING btree ("published_at") WHERE "outbox"."published_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "point_transactions_user_idx" ON "point_transactions" USING btree ("user_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "queue_tokens_token_key" ON "queue_tokens" USING btree ("token");--> statement-breakpoint
CREATE UNIQUE INDEX "queue_tokens_live_user_key" ON "queue_tokens" USING btree ("user_id") WHERE "queue_tokens"."status" IN ('WAITING', 'ACTIVE');--> statement-breakpoint
CREATE INDEX "queue_tokens_waiting_idx" ON "queue_tokens" USING btree ("id") WHERE "queue_tokens"."status" = 'WAITING';--> statement-breakpoint
CREATE INDEX "queue_tokens_waiting_seen_idx" ON "queue_tokens" USING btree ("last_seen_at") WHERE "queue_tokens"."status" = 'WAITING';--> statement-breakpoint
CREATE INDEX "queue_tokens_active_expiry_idx" ON "queue_tokens" USING btree ("expires_at") WHERE "queue_tokens"."status" = 'ACTIVE';--> statement-breakpoint
CREATE INDEX "queue_tokens_expired_at_idx" ON "queue_tokens" USING btree ("expired_at") WHERE "queue_tokens"."status" = 'EXPIRED';--> statement-breakpoint
CREATE UNIQUE INDEX "reservations_seat_key" ON "reservations" USING btree ("seat_id");--> statement-breakpoint
CREATE UNIQUE INDEX "reservations_user_uuid_key" ON "reservations" USING btree ("user_id","reservation_uuid");--> statement-breakpoint
CREATE INDEX "reservations_user_idx" ON "reservations" USING btree ("user_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "seat_holds_held_user_key" ON "seat_holds" USING btree ("user_id") WHERE "seat_holds"."status" = 'HELD';--> statement-breakpoint
CREATE UNIQUE INDEX "seats_concert_number_key" ON "seats" USING btree ("concert_id","seat_number");