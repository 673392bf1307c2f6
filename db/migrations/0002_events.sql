CREATE SCHEMA "notifications";
--> statement-breakpoint
CREATE TABLE "inventory"."outbox" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"event_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"order_id" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	CONSTRAINT "outbox_event_id_unique" UNIQUE("event_id")
);
--> statement-breakpoint
CREATE TABLE "notifications"."notifications" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"kind" text NOT NULL,
	"channel" text NOT NULL,
	"message" text NOT NULL,
	"event_id" uuid NOT NULL,
	"sent_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notifications_event_id_unique" UNIQUE("event_id"),
	CONSTRAINT "notifications_order_kind_unique" UNIQUE("order_id","kind"),
	CONSTRAINT "notifications_kind_check" CHECK ("notifications"."notifications"."kind" in ('OrderCompleted', 'OrderFailed', 'OrderCancelled', 'PaymentRefunded'))
);
--> statement-breakpoint
CREATE TABLE "notifications"."inbox" (
	"consumer" text NOT NULL,
	"event_id" uuid NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE TABLE "orders"."outbox" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"event_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"order_id" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	CONSTRAINT "outbox_event_id_unique" UNIQUE("event_id")
);
--> statement-breakpoint
CREATE TABLE "payments"."outbox" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"event_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"order_id" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	CONSTRAINT "outbox_event_id_unique" UNIQUE("event_id")
);
--> statement-breakpoint
CREATE TABLE "shipping"."outbox" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"event_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"order_id" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	CONSTRAINT "outbox_event_id_unique" UNIQUE("event_id")
);
--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "inventory"."outbox" USING btree ("seq") WHERE "inventory"."outbox"."published_at" is null;--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "orders"."outbox" USING btree ("seq") WHERE "orders"."outbox"."published_at" is null;--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "payments"."outbox" USING btree ("seq") WHERE "payments"."outbox"."published_at" is null;--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "shipping"."outbox" USING btree ("seq") WHERE "shipping"."outbox"."published_at" is null;
--> statement-breakpoint
-- Hand-written: wakes the orders relay (LISTEN outbox_orders) once per inserting statement, delivered at commit.
CREATE FUNCTION "orders"."notify_outbox"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('outbox_orders', '');
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "outbox_notify" AFTER INSERT ON "orders"."outbox" FOR EACH STATEMENT EXECUTE FUNCTION "orders"."notify_outbox"();
--> statement-breakpoint
-- Hand-written: wakes the inventory relay (LISTEN outbox_inventory) once per inserting statement, delivered at commit.
CREATE FUNCTION "inventory"."notify_outbox"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('outbox_inventory', '');
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "outbox_notify" AFTER INSERT ON "inventory"."outbox" FOR EACH STATEMENT EXECUTE FUNCTION "inventory"."notify_outbox"();
--> statement-breakpoint
-- Hand-written: wakes the payments relay (LISTEN outbox_payments) once per inserting statement, delivered at commit.
CREATE FUNCTION "payments"."notify_outbox"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('outbox_payments', '');
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "outbox_notify" AFTER INSERT ON "payments"."outbox" FOR EACH STATEMENT EXECUTE FUNCTION "payments"."notify_outbox"();
--> statement-breakpoint
-- Hand-written: wakes the shipping relay (LISTEN outbox_shipping) once per inserting statement, delivered at commit.
CREATE FUNCTION "shipping"."notify_outbox"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('outbox_shipping', '');
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "outbox_notify" AFTER INSERT ON "shipping"."outbox" FOR EACH STATEMENT EXECUTE FUNCTION "shipping"."notify_outbox"();
