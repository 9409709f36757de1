// TLS to the central PostgreSQL, as libpq's sslmode: the settings validate it, the settings window lists it.
// A module of its own so the window can list the modes without loading the settings' schemas (zod).
export const CENTRAL_TLS_MODES = ['disable', 'prefer', 'require', 'verify-full'] as const;
export type CentralTlsMode = (typeof CENTRAL_TLS_MODES)[number];
