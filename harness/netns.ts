/**
 * Network namespaces for tests that need real network faults between processes on this machine (root only). Each
 * namespace gets a veth pair to the host (`10.213.<i>.1` on the host side, `.2` inside) and an nftables table whose
 * rules drop packets silently: a partition of one host port (connections hang, nothing resets them) or a share of
 * its packets (loss). Servers that bind to loopback are reached through forwarding proxies listening on the host
 * side of the pair (harness/tcp-proxy.ts). `ip netns exec` replaces itself with the command, so a process started
 * through `wrap()` keeps its pid, and signals reach it as usual.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureDebianPackage } from './debian-packages.js';

const NFT = '/usr/sbin/nft';
const TABLE = 'saga_chaos';

/** A rule added to a namespace's table, by chain and handle, to delete it again. */
export interface NftRule {
  chain: 'output' | 'input';
  handle: number;
}

/** Why namespaces cannot be used here, or undefined when they can (root, `ip`, a kernel with nftables). */
export function networkNamespacesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip')) return 'iproute2 (`ip`) is missing';
  return undefined;
}

function run(command: string, args: string[], input?: string): string {
  return execFileSync(command, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** One namespace with its veth pair and its filter table. */
export class NetNamespace {
  readonly hostAddress: string;
  readonly address: string;
  private readonly hostLink: string;

  private constructor(
    readonly name: string,
    index: number,
  ) {
    this.hostAddress = `10.213.${index}.1`;
    this.address = `10.213.${index}.2`;
    this.hostLink = `${name.slice(0, 11)}h`;
  }

  /** Creates namespace `name` (removing a stale one of that name first) with pair number `index` (1–250). */
  static create(name: string, index: number): NetNamespace {
    if (!Number.isInteger(index) || index < 1 || index > 250)
      throw new Error(`namespace index ${index}: expected 1–250`);
    const ns = new NetNamespace(name, index);
    ns.remove();
    const inner = `${name.slice(0, 11)}n`;
    run('ip', ['netns', 'add', name]);
    try {
      run('ip', ['link', 'add', ns.hostLink, 'type', 'veth', 'peer', 'name', inner]);
      run('ip', ['link', 'set', inner, 'netns', name]);
      run('ip', ['addr', 'add', `${ns.hostAddress}/30`, 'dev', ns.hostLink]);
      run('ip', ['link', 'set', ns.hostLink, 'up']);
      ns.exec('ip', ['addr', 'add', `${ns.address}/30`, 'dev', inner]);
      ns.exec('ip', ['link', 'set', inner, 'up']);
      ns.exec('ip', ['link', 'set', 'lo', 'up']);
      ns.exec(
        NFT,
        ['-f', '-'],
        `table inet ${TABLE} {
  chain output { type filter hook output priority 0; policy accept; }
  chain input { type filter hook input priority 0; policy accept; }
}
`,
      );
    } catch (error) {
      ns.remove();
      throw error;
    }
    return ns;
  }

  /** Runs `command` inside the namespace and returns its output. */
  exec(command: string, args: string[], input?: string): string {
    return run('ip', ['netns', 'exec', this.name, command, ...args], input);
  }

  /** The command line that runs `command` inside the namespace (for a supervised process). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command: 'ip', args: ['netns', 'exec', this.name, command, ...args] };
  }

  /**
   * Drops packets between the namespace and host port `port` (of the host side of the pair), both ways: all of
   * them (a partition), or `percent` % of them at random (loss).
   */
  drop(port: number, percent = 100): NftRule[] {
    const share = percent >= 100 ? [] : ['numgen', 'random', 'mod', '100', '<', String(Math.round(percent))];
    return [
      this.addRule('output', [
        'ip',
        'daddr',
        this.hostAddress,
        'tcp',
        'dport',
        String(port),
        ...share,
        'drop',
      ]),
      this.addRule('input', [
        'ip',
        'saddr',
        this.hostAddress,
        'tcp',
        'sport',
        String(port),
        ...share,
        'drop',
      ]),
    ];
  }

  /** Deletes rules `drop()` added. */
  restore(rules: readonly NftRule[]): void {
    for (const rule of rules) {
      this.exec(NFT, ['delete', 'rule', 'inet', TABLE, rule.chain, 'handle', String(rule.handle)]);
    }
  }

  private addRule(chain: NftRule['chain'], expression: string[]): NftRule {
    const echoed = this.exec(NFT, ['--echo', '--handle', 'add', 'rule', 'inet', TABLE, chain, ...expression]);
    const handle = Number(/# handle (\d+)/.exec(echoed)?.[1]);
    if (!Number.isInteger(handle)) throw new Error(`nft printed no rule handle: ${echoed.trim()}`);
    return { chain, handle };
  }

  /** Removes the namespace and its pair (deleting one end of a veth pair deletes both); quiet when absent. */
  remove(): void {
    try {
      run('ip', ['link', 'del', this.hostLink]);
    } catch {
      // absent
    }
    try {
      run('ip', ['netns', 'del', this.name]);
    } catch {
      // absent
    }
  }
}

/** Makes sure `nft` is installed (Debian's nftables package). */
export function ensureNftables(log: (line: string) => void): void {
  ensureDebianPackage('nftables', NFT, log);
}
