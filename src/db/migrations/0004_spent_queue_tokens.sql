CREATE TABLE "spent_queue_tokens" (
	"token" text PRIMARY KEY NOT NULL,
	"spent_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "spent_queue_tokens_spent_at_idx" ON "spent_queue_tokens" USING btree ("spent_at");