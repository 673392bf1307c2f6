ALTER TABLE "inventory"."outbox" ADD COLUMN "trace_parent" text;--> statement-breakpoint
ALTER TABLE "orders"."outbox" ADD COLUMN "trace_parent" text;--> statement-breakpoint
ALTER TABLE "payments"."outbox" ADD COLUMN "trace_parent" text;--> statement-breakpoint
ALTER TABLE "shipping"."outbox" ADD COLUMN "trace_parent" text;