/**
 * A deadline on the Postgres server's answers, for the sockets postgres.js opens. postgres.js has no client-side
 * query timeout, and a connection whose packets are silently dropped (a partition, a half-open connection after a
 * failover) never fails by itself: TCP retransmits for many minutes and keepalives only probe idle connections. So
 * every socket counts the requests it sent that await a ReadyForQuery (a simple Query, an extended-protocol Sync, the
 * startup) and the ones answered; while any is outstanding and the server sends nothing for the deadline, the
 * socket is destroyed. postgres.js then fails the query (and the transaction it was in) with a connection error, so
 * the activity attempt ends and Temporal retries it, instead of the attempt hanging with a pool connection. The
 * server's `statement_timeout` bounds how long it may legitimately stay silent; the deadline sits a margin above it.
 * Each request's wait for its answer is also measured, deadline or not, and a late one is reported: that is how a
 * hang shows when the deadline is missing (no statement timeout), and what the chaos run's invariant counts.
 * An idle connection (nothing outstanding) is never touched: keepalives look after those. Under TLS the bytes cannot
 * be read (and node's TLS layer drives the raw socket's handle directly), so TLS connections are not watched; they
 * rely on `statement_timeout`, the connect timeout and keepalives alone.
 */
import net from 'node:net';

/** What postgres.js passes to its `socket` option: its parsed options (hosts and ports as parallel arrays). */
export interface PostgresSocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
  ssl?: unknown;
}

/** Frontend messages that each get exactly one ReadyForQuery back: simple Query and Sync. */
const ANSWERED_BY_READY = new Set(['Q'.charCodeAt(0), 'S'.charCodeAt(0)]);
const READY_FOR_QUERY = 'Z'.charCodeAt(0);

/**
 * Splits a byte stream into Postgres messages (type byte, int32 length including itself) across chunk boundaries and
 * calls `onType` with each message's type. The frontend's first message (startup) has no type byte: `untyped` skips it.
 */
const EMPTY = Buffer.alloc(0);

class MessageScanner {
  private pending = EMPTY;
  /** Bytes of the current message's body still to skip. */
  private skip = 0;
  constructor(
    private readonly onType: (type: number) => void,
    private untyped: boolean,
  ) {}

  push(chunk: Buffer): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = EMPTY;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length);
        this.skip -= n;
        data = data.subarray(n);
        if (this.skip > 0) return;
      }
      const header = this.untyped ? 4 : 5;
      if (data.length < header) {
        this.pending = Buffer.from(data);
        return;
      }
      if (this.untyped) {
        this.untyped = false;
        this.skip = data.readInt32BE(0);
        this.onType(-1);
      } else {
        this.onType(data[0] as number);
        this.skip = 1 + data.readInt32BE(1);
      }
    }
  }
}

/** What a watched socket does: destroy it when the server stays silent, report answers that came late. */
export interface AnswerWatch {
  /** Silence (ms) while a request is outstanding after which the socket is destroyed; undefined: never. */
  deadlineMs?: number | undefined;
  /** A request whose answer took longer than this (ms) is reported to `onLateAnswer`. */
  lateAfterMs: number;
  /**
   * Called once for each request answered (or whose socket closed for another reason than the deadline) more than
   * `lateAfterMs` after it was sent. It measures the hang itself, so it is what shows that a deadline is missing.
   */
  onLateAnswer?: ((waitedMs: number, lateAfterMs: number) => void) | undefined;
}

/** A socket whose outstanding requests must see an answer in time (see the file's comment). */
export function watchResponses(socket: net.Socket, watch: AnswerWatch): net.Socket {
  const { deadlineMs, lateAfterMs, onLateAnswer } = watch;
  /** When each outstanding request was sent, oldest first: each ReadyForQuery answers the oldest. */
  const sentAt: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const expire = () => {
    expired = true;
    socket.destroy(
      Object.assign(
        new Error(`Postgres sent nothing for ${deadlineMs} ms while a query awaited its answer`),
        {
          // ETIMEDOUT, as a socket that timed out: every classifier of lost connections knows it.
          code: 'ETIMEDOUT',
        },
      ),
    );
  };
  const answered = (at: number | undefined) => {
    if (at === undefined) return;
    const waitedMs = Date.now() - at;
    if (waitedMs > lateAfterMs) onLateAnswer?.(waitedMs, lateAfterMs);
  };
  /** (Re)starts the deadline while a request is outstanding, stops it when none is. */
  const arm = () => {
    if (deadlineMs === undefined) return;
    if (sentAt.length === 0) {
      clearTimeout(timer);
      timer = undefined;
    } else if (timer) {
      timer.refresh();
    } else {
      timer = setTimeout(expire, deadlineMs);
      timer.unref();
    }
  };
  const sent = new MessageScanner((type) => {
    if (type === -1 || ANSWERED_BY_READY.has(type)) sentAt.push(Date.now());
  }, true);
  const received = new MessageScanner((type) => {
    if (type === READY_FOR_QUERY) answered(sentAt.shift());
  }, false);

  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((chunk: unknown, ...rest: unknown[]) => {
    const wasIdle = sentAt.length === 0;
    // A view, not a copy: the scanner only reads it (and copies what it must keep).
    if (chunk instanceof Uint8Array) sent.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    // Progress on the server's side resets the deadline; a new request after silence starts it.
    if (wasIdle && sentAt.length > 0) arm();
    return write(chunk, ...rest);
  }) as net.Socket['write'];
  socket.on('data', (chunk: Buffer) => {
    received.push(chunk);
    arm();
  });
  socket.once('close', () => {
    clearTimeout(timer);
    // The deadline's own cuts are errors already; any other end of a request that hung that long is reported.
    if (!expired) answered(sentAt[0]);
  });
  return socket;
}

/**
 * The `socket` option for postgres.js: connects to its hosts in turn (as it would itself) and watches each socket's
 * answers. Unix-socket paths are connected as they are.
 */
export function watchedSocketFactory(answers: AnswerWatch): (options: PostgresSocketOptions) => net.Socket {
  let next = 0;
  return (options) => {
    const watch = (socket: net.Socket) => (options.ssl ? socket : watchResponses(socket, answers));
    if (options.path) return watch(net.connect(options.path));
    const index = next++ % options.host.length;
    const host = options.host[index] as string;
    const port = options.port[index] ?? options.port[0] ?? 5432;
    const socket = watch(net.connect(port, host));
    // postgres.js names the server by these in its errors and passes `host` as TLS servername.
    return Object.assign(socket, { host, port });
  };
}
