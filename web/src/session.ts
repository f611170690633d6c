import { createContext } from "preact";
import { useContext } from "preact/hooks";

export type User = {
  id: string;
  email: string;
  name: string;
  role: "admin" | "member";
  tier: string;
};

export type Session = {
  user: User;
  csrf_token: string;
  expires_at: number;
  tier: { name: string; models: string[]; chat_models: string[]; default_model: string } | null;
};

export const SessionContext = createContext<{
  session: Session;
  signOut: () => void;
} | null>(null);

/** The signed-in session; only used under the signed-in layout. */
export function useSession() {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside a session");
  return value;
}
