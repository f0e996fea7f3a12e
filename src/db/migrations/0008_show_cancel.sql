CREATE TABLE "show_cancel_jobs" (
	"concert_id" bigint PRIMARY KEY NOT NULL,
	"state" text DEFAULT 'running' NOT NULL,
	"reason" text,
	"requested_by" text NOT NULL,
	"total" integer NOT NULL,
	"refunded" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "show_cancel_jobs_state" CHECK ("show_cancel_jobs"."state" IN ('running', 'done')),
	CONSTRAINT "show_cancel_jobs_finished" CHECK (("show_cancel_jobs"."state" = 'done') = ("show_cancel_jobs"."finished_at" IS NOT NULL)),
	CONSTRAINT "show_cancel_jobs_counts" CHECK ("show_cancel_jobs"."refunded" >= 0 AND "show_cancel_jobs"."total" >= 0)
);
--> statement-breakpoint
ALTER TABLE "concerts" ADD COLUMN "cancelled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "show_cancel_jobs" ADD CONSTRAINT "show_cancel_jobs_concert_id_concerts_id_fk" FOREIGN KEY ("concert_id") REFERENCES "public"."concerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "show_cancel_jobs_running_idx" ON "show_cancel_jobs" USING btree ("created_at") WHERE "show_cancel_jobs"."state" = 'running';--> statement-breakpoint
CREATE INDEX "reservations_concert_live_idx" ON "reservations" USING btree ("concert_id","id") WHERE "reservations"."cancelled_at" IS NULL;