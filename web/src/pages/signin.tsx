import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { get, post } from "../api";
import { Session } from "../session";
import { errorText, useAutofocus, useTitle } from "../util";

/** Sign in, or sign up (open sign-up, or with an invitation link's token). */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const { path, query, route } = useLocation();
  const invitation = query.invitation ?? "";
  const [signup, setSignup] = useState<"open" | "invite">("invite");
  const mode = path.startsWith("/signup") ? "signup" : "signin";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const emailBox = useAutofocus<HTMLInputElement>();
  useTitle(mode === "signup" ? "Sign up" : "Sign in");

  useEffect(() => {
    get("/api/auth/options").then((o) => setSignup(o.signup)).catch(() => {});
  }, []);

  const canSignUp = signup === "open" || invitation !== "";

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const session =
        mode === "signup"
          ? await post<Session>("/api/auth/signup", {
              email,
              password,
              name: name || undefined,
              invitation: invitation || undefined,
            })
          : await post<Session>("/api/auth/signin", { email, password });
      if (path.startsWith("/signin") || path.startsWith("/signup") || path === "/") {
        route("/chat", true);
      }
      onSignedIn(session);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="auth">
      <form class="card auth-card" onSubmit={submit} aria-labelledby="auth-title">
        <div class="auth-brand">
          <img src="/favicon.svg" alt="" width="40" height="40" />
          <h1 id="auth-title">{mode === "signup" ? "Create your account" : "Sign in to Cairn"}</h1>
        </div>
        {mode === "signup" && !canSignUp && (
          <p class="notice">Sign-up is by invitation. Ask an administrator for a link.</p>
        )}
        <label>
          E-mail
          <input
            type="email"
            name="email"
            autocomplete="username"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
            ref={emailBox}
          />
        </label>
        {mode === "signup" && (
          <label>
            <span>
              Name <span class="muted">(optional)</span>
            </span>
            <input
              name="name"
              autocomplete="name"
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </label>
        )}
        <label>
          Password
          <input
            type="password"
            name="password"
            autocomplete={mode === "signup" ? "new-password" : "current-password"}
            required
            minLength={mode === "signup" ? 8 : undefined}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || (mode === "signup" && !canSignUp)}>
          {busy ? "Please wait…" : mode === "signup" ? "Sign up" : "Sign in"}
        </button>
        <p class="muted switch">
          {mode === "signup" ? (
            <a href="/signin">I have an account</a>
          ) : (
            canSignUp && <a href="/signup">Create an account</a>
          )}
        </p>
      </form>
    </div>
  );
}
