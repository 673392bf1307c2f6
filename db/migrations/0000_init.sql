CREATE SCHEMA "inventory";
--> statement-breakpoint
CREATE SCHEMA "orders";
--> statement-breakpoint
CREATE SCHEMA "payments";
--> statement-breakpoint
CREATE SCHEMA "shipping";
--> statement-breakpoint
CREATE TABLE "inventory"."products" (
	"sku" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"price_cents" integer NOT NULL,
	"available" integer DEFAULT 0 NOT NULL,
	"reserved" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "products_price_cents_check" CHECK ("inventory"."products"."price_cents" >= 0),
	CONSTRAINT "products_available_check" CHECK ("inventory"."products"."available" >= 0),
	CONSTRAINT "products_reserved_check" CHECK ("inventory"."products"."reserved" >= 0)
);
--> statement-breakpoint
CREATE TABLE "inventory"."reservation_items" (
	"order_id" text NOT NULL,
	"sku" text NOT NULL,
	"quantity" integer NOT NULL,
	CONSTRAINT "reservation_items_order_id_sku_pk" PRIMARY KEY("order_id","sku"),
	CONSTRAINT "reservation_items_quantity_check" CHECK ("inventory"."reservation_items"."quantity" > 0)
);
--> statement-breakpoint
CREATE TABLE "inventory"."reservations" (
	"order_id" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reservations_status_check" CHECK ("inventory"."reservations"."status" in ('RESERVED', 'RELEASED', 'COMMITTED'))
);
--> statement-breakpoint
CREATE TABLE "orders"."orders" (
	"order_id" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"items" jsonb NOT NULL,
	"total_cents" integer NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"status_seq" integer DEFAULT 0 NOT NULL,
	"failure_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_status_check" CHECK ("orders"."orders"."status" in ('PENDING', 'RESERVING', 'CHARGING', 'SHIPPING', 'COMPENSATING', 'COMPLETED', 'FAILED', 'CANCELLED')),
	CONSTRAINT "orders_total_cents_check" CHECK ("orders"."orders"."total_cents" >= 0)
);
--> statement-breakpoint
CREATE TABLE "payments"."ledger" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"order_id" text NOT NULL,
	"kind" text NOT NULL,
	"amount_cents" integer NOT NULL,
	"provider_ref" text,
	"token_fingerprint" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_order_kind_unique" UNIQUE("order_id","kind"),
	CONSTRAINT "ledger_kind_check" CHECK ("payments"."ledger"."kind" in ('CHARGE', 'REFUND', 'VOID')),
	CONSTRAINT "ledger_amount_cents_check" CHECK ("payments"."ledger"."amount_cents" >= 0),
	CONSTRAINT "ledger_token_fingerprint_check" CHECK ("payments"."ledger"."token_fingerprint" ~ '^[0-9a-f]{16,64}$')
);
--> statement-breakpoint
CREATE TABLE "shipping"."shipments" (
	"order_id" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"tracking_id" text,
	"country" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "shipments_status_check" CHECK ("shipping"."shipments"."status" in ('CREATED', 'CANCELLED'))
);
--> statement-breakpoint
ALTER TABLE "inventory"."reservation_items" ADD CONSTRAINT "reservation_items_order_id_reservations_order_id_fk" FOREIGN KEY ("order_id") REFERENCES "inventory"."reservations"("order_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "orders_customer_created_idx" ON "orders"."orders" USING btree ("customer_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "orders_status_created_idx" ON "orders"."orders" USING btree ("status","created_at" DESC NULLS FIRST);