/** Route paths of every HTTP API, used by servers to mount and by clients to call. */
const seg = (s: string) => encodeURIComponent(s);

export const HEALTH = { healthz: "/healthz", readyz: "/readyz" } as const;

export const USER_API = {
  login: "/v1/auth/login",
  refresh: "/v1/auth/refresh",
  logout: "/v1/auth/logout",
  me: "/v1/users/me",
  revokeSessions: (userId: string) => `/v1/users/${seg(userId)}/revoke_sessions`,
  tasks: "/v1/tasks",
  task: (id: string) => `/v1/tasks/${seg(id)}`,
  taskResult: (id: string) => `/v1/tasks/${seg(id)}/result`,
  taskCancel: (id: string) => `/v1/tasks/${seg(id)}/cancel`,
  taskLogs: (id: string) => `/v1/tasks/${seg(id)}/logs`,
} as const;
