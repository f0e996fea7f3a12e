CREATE TABLE "pre_queue" (
	"concert_id" bigint NOT NULL,
	"user_id" bigint NOT NULL,
	"receipt_id" text NOT NULL,
	"token" text NOT NULL,
	"seq" bigserial NOT NULL,
	"joined_at" timestamp with time zone DEFAULT now() NOT NULL,
	"place" integer,
	"moved_at" timestamp with time zone,
	CONSTRAINT "pre_queue_concert_id_user_id_pk" PRIMARY KEY("concert_id","user_id"),
	CONSTRAINT "pre_queue_receipt_id_unique" UNIQUE("receipt_id"),
	CONSTRAINT "pre_queue_token_unique" UNIQUE("token"),
	CONSTRAINT "pre_queue_place" CHECK ("pre_queue"."place" >= 1)
);
--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "opens_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "pre_queue_opens_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "seed" text;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "commitment" text;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "opened_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "transferred_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "pre_queue" ADD CONSTRAINT "pre_queue_concert_id_rooms_concert_id_fk" FOREIGN KEY ("concert_id") REFERENCES "public"."rooms"("concert_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pre_queue_to_move_idx" ON "pre_queue" USING btree ("concert_id","place","seq") WHERE "pre_queue"."moved_at" IS NULL;--> statement-breakpoint
CREATE INDEX "pre_queue_draw_idx" ON "pre_queue" USING btree ("concert_id","place");--> statement-breakpoint
CREATE INDEX "rooms_pending_opening_idx" ON "rooms" USING btree ("opens_at") WHERE "rooms"."opens_at" IS NOT NULL AND "rooms"."transferred_at" IS NULL;--> statement-breakpoint
ALTER TABLE "rooms" ADD CONSTRAINT "rooms_pre_queue_before_opening" CHECK ("rooms"."pre_queue_opens_at" < "rooms"."opens_at");--> statement-breakpoint
ALTER TABLE "rooms" ADD CONSTRAINT "rooms_seed_committed" CHECK (("rooms"."seed" IS NULL) = ("rooms"."commitment" IS NULL));