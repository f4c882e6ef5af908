/**
 * initializationOptions sent to the server (docs/protocol.md): the user's llmgenie.* settings
 * plus secrets from SecretStorage. Only set values are sent, so the server's own layered
 * configuration (llmgenie.toml, env vars) still applies to everything left empty.
 */

export interface ExtensionSettings {
  model?: string;
  fallbacks?: string[];
  agentModels?: Record<string, string>;
  apiBase?: string;
  embeddings?: string;
  ignore?: string[];
  maxFileBytes?: number | null;
  teamServerUrl?: string;
}

export interface Secrets {
  apiKey?: string;
  teamToken?: string;
}

export interface InitializationOptions {
  model?: string;
  fallbacks?: string[];
  apiBase?: string;
  apiKey?: string;
  agentModels?: Record<string, string>;
  embeddings?: string;
  ignore?: string[];
  maxFileBytes?: number;
  teamServerUrl?: string;
  teamToken?: string;
  /** VS Code's workspace trust: an untrusted folder's llmgenie.toml cannot pick models or keys. */
  workspaceTrusted?: boolean;
}

const text = (v: string | undefined): string | undefined => (v && v.trim() ? v.trim() : undefined);
const list = (v: string[] | undefined): string[] | undefined => {
  const items = (v ?? []).map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
};

export function buildInitializationOptions(settings: ExtensionSettings, secrets: Secrets, workspaceTrusted?: boolean): InitializationOptions {
  const options: InitializationOptions = {};
  const set = <K extends keyof InitializationOptions>(key: K, value: InitializationOptions[K] | undefined): void => {
    if (value !== undefined) {
      options[key] = value;
    }
  };
  set('model', text(settings.model));
  set('fallbacks', list(settings.fallbacks));
  set('apiBase', text(settings.apiBase));
  set('apiKey', text(secrets.apiKey));
  const agents = Object.fromEntries(
    Object.entries(settings.agentModels ?? {}).filter(([k, v]) => k.trim() && typeof v === 'string' && v.trim()),
  );
  set('agentModels', Object.keys(agents).length ? agents : undefined);
  set('embeddings', text(settings.embeddings));
  set('ignore', list(settings.ignore));
  set(
    'maxFileBytes',
    typeof settings.maxFileBytes === 'number' && settings.maxFileBytes > 0 ? Math.floor(settings.maxFileBytes) : undefined,
  );
  set('teamServerUrl', text(settings.teamServerUrl));
  set('teamToken', text(secrets.teamToken));
  set('workspaceTrusted', workspaceTrusted);
  return options;
}

/** The options with secrets masked, for the log. */
export function redactOptions(options: InitializationOptions): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...options };
  for (const key of ['apiKey', 'teamToken'] as const) {
    if (copy[key] !== undefined) {
      copy[key] = '***';
    }
  }
  return copy;
}
