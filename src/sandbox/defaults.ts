/** The sandbox's login when none is given: a module of its own, so that the CLI's options need not load the server. */
export interface SandboxUser {
  username: string;
  password: string;
}

export const DEFAULT_USER: SandboxUser = { username: 'demo@example.com', password: 'demo-password' };
