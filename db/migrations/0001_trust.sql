ALTER TABLE "orders"."orders" DROP CONSTRAINT "orders_status_check";--> statement-breakpoint
ALTER TABLE "shipping"."shipments" DROP CONSTRAINT "shipments_status_check";--> statement-breakpoint
DROP INDEX "orders"."orders_customer_created_idx";--> statement-breakpoint
DROP INDEX "orders"."orders_status_created_idx";--> statement-breakpoint
ALTER TABLE "orders"."orders" ALTER COLUMN "total_cents" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "payments"."ledger" ALTER COLUMN "amount_cents" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "inventory"."products" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "client_id" text DEFAULT 'anonymous' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "request_hash" text;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "failure_code" text;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "view" jsonb;--> statement-breakpoint
CREATE INDEX "orders_created_idx" ON "orders"."orders" USING btree ("created_at" DESC NULLS FIRST,"order_id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "orders_client_created_idx" ON "orders"."orders" USING btree ("client_id","created_at" DESC NULLS FIRST,"order_id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "orders_customer_created_idx" ON "orders"."orders" USING btree ("customer_id","created_at" DESC NULLS FIRST,"order_id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "orders_status_created_idx" ON "orders"."orders" USING btree ("status","created_at" DESC NULLS FIRST,"order_id" DESC NULLS FIRST);--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD CONSTRAINT "orders_status_check" CHECK ("orders"."orders"."status" in ('PENDING', 'RESERVING', 'CHARGING', 'SHIPPING', 'COMPENSATING', 'COMPENSATION_FAILED', 'COMPLETED', 'FAILED', 'CANCELLED'));--> statement-breakpoint
ALTER TABLE "shipping"."shipments" ADD CONSTRAINT "shipments_status_check" CHECK ("shipping"."shipments"."status" in ('BOOKING', 'CREATED', 'CANCELLED'));