CREATE TABLE "pow_spent_nonces" (
	"nonce" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "pow_spent_nonces_expires_at_idx" ON "pow_spent_nonces" USING btree ("expires_at");