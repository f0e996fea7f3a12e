CREATE TABLE "concert_price_categories" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"concert_id" bigint NOT NULL,
	"position" integer NOT NULL,
	"name" text NOT NULL,
	"price" bigint NOT NULL,
	CONSTRAINT "concert_price_categories_price_positive" CHECK ("concert_price_categories"."price" > 0)
);
--> statement-breakpoint
CREATE TABLE "concert_sections" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"concert_id" bigint NOT NULL,
	"position" integer NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"capacity" integer NOT NULL,
	"price_category_id" bigint NOT NULL,
	CONSTRAINT "concert_sections_kind" CHECK ("concert_sections"."kind" IN ('seated', 'general-admission'))
);
--> statement-breakpoint
ALTER TABLE "concerts" ADD COLUMN "description" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "concerts" ADD COLUMN "sale_opens_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "concerts" ADD COLUMN "sale_closes_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "concerts" ADD COLUMN "ticket_limit" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "concerts" ADD COLUMN "hold_seconds" integer;--> statement-breakpoint
ALTER TABLE "concerts" ADD COLUMN "refund_cutoff_hours" integer DEFAULT 24 NOT NULL;--> statement-breakpoint
ALTER TABLE "concerts" ADD COLUMN "refund_fee_percent" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "concerts" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "seats" ADD COLUMN "section_key" text;--> statement-breakpoint
ALTER TABLE "seats" ADD COLUMN "section_name" text;--> statement-breakpoint
ALTER TABLE "seats" ADD COLUMN "row_label" text;--> statement-breakpoint
ALTER TABLE "seats" ADD COLUMN "seat_label" text;--> statement-breakpoint
ALTER TABLE "seats" ADD COLUMN "price_category_id" bigint;--> statement-breakpoint
ALTER TABLE "concert_price_categories" ADD CONSTRAINT "concert_price_categories_concert_id_concerts_id_fk" FOREIGN KEY ("concert_id") REFERENCES "public"."concerts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "concert_sections" ADD CONSTRAINT "concert_sections_concert_id_concerts_id_fk" FOREIGN KEY ("concert_id") REFERENCES "public"."concerts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "concert_sections" ADD CONSTRAINT "concert_sections_price_category_id_concert_price_categories_id_fk" FOREIGN KEY ("price_category_id") REFERENCES "public"."concert_price_categories"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "concert_price_categories_position_key" ON "concert_price_categories" USING btree ("concert_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "concert_price_categories_name_key" ON "concert_price_categories" USING btree ("concert_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "concert_sections_position_key" ON "concert_sections" USING btree ("concert_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "concert_sections_key_key" ON "concert_sections" USING btree ("concert_id","key");--> statement-breakpoint
ALTER TABLE "seats" ADD CONSTRAINT "seats_price_category_id_concert_price_categories_id_fk" FOREIGN KEY ("price_category_id") REFERENCES "public"."concert_price_categories"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "seats_concert_section_idx" ON "seats" USING btree ("concert_id","section_key","seat_number");--> statement-breakpoint
ALTER TABLE "concerts" ADD CONSTRAINT "concerts_ticket_limit_positive" CHECK ("concerts"."ticket_limit" >= 1);--> statement-breakpoint
ALTER TABLE "concerts" ADD CONSTRAINT "concerts_hold_seconds_range" CHECK ("concerts"."hold_seconds" BETWEEN 10 AND 3600);--> statement-breakpoint
ALTER TABLE "concerts" ADD CONSTRAINT "concerts_refund_cutoff_hours" CHECK ("concerts"."refund_cutoff_hours" >= 0);--> statement-breakpoint
ALTER TABLE "concerts" ADD CONSTRAINT "concerts_refund_fee_percent" CHECK ("concerts"."refund_fee_percent" BETWEEN 0 AND 100);--> statement-breakpoint
ALTER TABLE "concerts" ADD CONSTRAINT "concerts_sale_window" CHECK ("concerts"."sale_closes_at" IS NULL OR ("concerts"."sale_closes_at" <= "concerts"."show_datetime"
          AND ("concerts"."sale_opens_at" IS NULL OR "concerts"."sale_opens_at" < "concerts"."sale_closes_at")));