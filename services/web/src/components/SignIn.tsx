import { type FormEvent, useId, useState } from "react";
import { ApiClient, describeError, type Fetch } from "../api.ts";

export function SignIn({ onSignedIn, fetch }: { onSignedIn: (key: string) => void; fetch?: Fetch }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError("Enter your API key.");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await new ApiClient(trimmed, fetch ? { fetch } : {}).verifyKey();
      onSignedIn(trimmed);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      {/* method=post: even without JavaScript the key never lands in the address bar. */}
      <form method="post" onSubmit={submit} className="card" aria-labelledby={`${inputId}-title`}>
        <h1 id={`${inputId}-title`}>Sign in to content-engine</h1>
        <p id={hintId} className="muted">
          Use the API key you were given (the one you send as <code>Authorization: Bearer</code>). It is kept
          in this browser tab only and forgotten when you close it.
        </p>
        <label htmlFor={inputId}>API key</label>
        <input
          id={inputId}
          name="apiKey"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-describedby={error ? `${hintId} ${errorId}` : hintId}
          aria-invalid={error ? true : undefined}
        />
        {error && (
          <p id={errorId} role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
