import { useEffect, useState } from "preact/hooks";
import { LocationProvider, Router, useLocation } from "preact-iso";
import { ApiError, get, post, setCsrfToken, whenSignedOut } from "./api";
import { Session, SessionContext } from "./session";
import { SignIn } from "./pages/signin";
import { Chat } from "./pages/chat";
import { Keys } from "./pages/keys";
import { Knowledge } from "./pages/knowledge";
import { MemoryPage } from "./pages/memory";
import { Admin } from "./pages/admin";
import { Writer } from "./pages/writer";

export function App() {
  // undefined: still asking the server; null: signed out.
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  useEffect(() => {
    whenSignedOut(() => setSession(null));
    get<Session>("/api/session")
      .then(signedIn)
      .catch((err) => {
        if (!(err instanceof ApiError) || err.status !== 401) console.error(err);
        setSession(null);
      });
  }, []);

  function signedIn(s: Session) {
    setCsrfToken(s.csrf_token);
    setSession(s);
  }

  async function signOut() {
    try {
      await post("/api/auth/signout");
    } finally {
      setCsrfToken("");
      setSession(null);
    }
  }

  if (session === undefined) return <div class="loading" aria-busy="true" />;
  return (
    <LocationProvider>
      {session === null ? (
        <SignIn onSignedIn={signedIn} />
      ) : (
        <SessionContext.Provider value={{ session, signOut }}>
          <Shell />
        </SessionContext.Provider>
      )}
    </LocationProvider>
  );
}

const NAV = [
  { href: "/chat", label: "Chat" },
  { href: "/knowledge", label: "Knowledge" },
  { href: "/writer", label: "Writer" },
  { href: "/memory", label: "Memory" },
  { href: "/keys", label: "API keys" },
  { href: "/admin", label: "Admin", adminOnly: true },
];

function Shell() {
  const { path } = useLocation();
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <Nav path={path} />
      <main id="main" class="main">
        <Router>
          <Chat path="/chat/:id?" />
          <Knowledge path="/knowledge/:id?" />
          <Writer path="/writer/:id?" />
          <MemoryPage path="/memory" />
          <Keys path="/keys" />
          <Admin path="/admin" />
          <Redirect default to="/chat" />
        </Router>
      </main>
    </div>
  );
}

function Nav({ path }: { path: string }) {
  return (
    <SessionContext.Consumer>
      {(ctx) => (
        <header class="nav">
          <a class="brand" href="/chat" aria-label="Cairn home">
            <img src="/favicon.svg" alt="" width="22" height="22" />
            <span>Cairn</span>
          </a>
          <nav aria-label="Main">
            {NAV.filter((item) => !item.adminOnly || ctx!.session.user.role === "admin").map((item) => (
              <a
                key={item.href}
                href={item.href}
                class={path.startsWith(item.href) ? "active" : ""}
                aria-current={path.startsWith(item.href) ? "page" : undefined}
              >
                {item.label}
              </a>
            ))}
          </nav>
          <div class="account">
            <span class="who" title={ctx!.session.user.email}>
              {ctx!.session.user.email}
            </span>
            <button type="button" class="link" onClick={ctx!.signOut}>
              Sign out
            </button>
          </div>
        </header>
      )}
    </SessionContext.Consumer>
  );
}

function Redirect({ to }: { to: string; default?: boolean }) {
  const { route } = useLocation();
  useEffect(() => route(to, true), [to]);
  return null;
}
