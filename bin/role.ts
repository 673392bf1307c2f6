/**
 * The image's one entry point: `role.ts <api|worker|consumer|migrate|seed|promote> [args]` picks the process role and hands
 * the remaining arguments to that role's own entry module, so containers differ only in their command.
 */
const ROLES = {
  api: '../api/server.js',
  worker: '../workers/main.js',
  consumer: '../consumers/notifications/main.js',
  migrate: '../db/migrate-cli.js',
  seed: '../db/seed-cli.js',
  promote: './promote-build.js',
} as const;

/** A role the image can run. */
export type Role = keyof typeof ROLES;

function isRole(name: string | undefined): name is Role {
  return name !== undefined && Object.hasOwn(ROLES, name);
}

const role = process.argv[2];
if (!isRole(role)) {
  console.error(`usage: role <${Object.keys(ROLES).join('|')}> [args]   (got: ${role ?? 'nothing'})`);
  process.exit(2);
}
// The entry modules parse process.argv themselves: drop the role so `worker --service payments` reads as usual.
process.argv.splice(2, 1);
await import(ROLES[role]);
