-- The ticket-limit trigger's count (0009, 0012) finds one buyer's rows of one concert. With an
-- index on user_id alone, its cached generic plan AND-ed that index with seat_holds_concert_idx,
-- reading every hold of the concert on each hold (1,000 to 20,000 on an arena; decision 0065).
-- One index on both keys answers it by a probe; user_id alone still leads it for the other reads.
CREATE INDEX "seat_holds_user_concert_idx" ON "seat_holds" USING btree ("user_id","concert_id");--> statement-breakpoint
DROP INDEX "seat_holds_user_idx";
