// The one way the app talks to the server: same-origin requests with the session cookie,
// the CSRF token on every write, and the server's error envelope turned into ApiError.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public param?: string | null,
  ) {
    super(message);
  }
}

let csrfToken = "";

/** Set from the session (sign-in, sign-up, or GET /api/session at start). */
export function setCsrfToken(token: string) {
  csrfToken = token;
}

/** Called when a request finds the session gone, so the app can show the sign-in page. */
let onSignedOut: () => void = () => {};
export function whenSignedOut(handler: () => void) {
  onSignedOut = handler;
}

function headers(method: string, json: boolean): Record<string, string> {
  const h: Record<string, string> = { accept: "application/json" };
  if (json) h["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) h["x-csrf-token"] = csrfToken;
  return h;
}

async function failure(response: Response): Promise<ApiError> {
  let body: any = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON */
  }
  const e = body?.error;
  const err = new ApiError(
    response.status,
    e?.code ?? "http_error",
    e?.message ?? `${response.status} ${response.statusText}`,
    e?.param,
  );
  if (response.status === 401) onSignedOut();
  return err;
}

export async function request<T = any>(
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: headers(method, body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    signal,
  });
  if (!response.ok) throw await failure(response);
  // Some deletions answer 204 with no body.
  const text = await response.text();
  return text ? JSON.parse(text) : (null as T);
}

export const get = <T = any>(path: string) => request<T>("GET", path);
export const post = <T = any>(path: string, body: unknown = {}) => request<T>("POST", path, body);
export const patch = <T = any>(path: string, body: unknown) => request<T>("PATCH", path, body);
export const put = <T = any>(path: string, body: unknown) => request<T>("PUT", path, body);
export const del = <T = any>(path: string) => request<T>("DELETE", path);

export type StreamEvent = { event: string; data: any };

/**
 * POSTs and reads the answer as server-sent events (EventSource cannot POST), calling
 * `onEvent` for each. Resolves when the stream ends; rejects with ApiError when the server
 * refuses the request, or with an AbortError when `signal` stops it.
 */
export async function postStream(
  path: string,
  body: unknown,
  onEvent: (e: StreamEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const response = await fetch(path, {
    method: "POST",
    headers: { ...headers("POST", true), accept: "text/event-stream" },
    body: JSON.stringify(body),
    credentials: "same-origin",
    signal,
  });
  if (!response.ok || !response.body) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent({ event, data: JSON.parse(data.join("\n")) });
    }
  }
}

/** A multipart upload with progress (fetch cannot report upload progress; XHR can). */
export function upload(
  path: string,
  form: FormData,
  onProgress: (fraction: number) => void,
): Promise<any> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("accept", "application/json");
    if (csrfToken) xhr.setRequestHeader("x-csrf-token", csrfToken);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: any = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        if (xhr.status === 401) onSignedOut();
        reject(new ApiError(xhr.status, body?.error?.code ?? "http_error", body?.error?.message ?? xhr.statusText));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "the upload could not reach the server"));
    xhr.send(form);
  });
}
