import { useCallback, useMemo, useState } from "react";
import type { ConsoleConfig, Fetch } from "./api.ts";
import { Console } from "./components/Console.tsx";
import { SignIn } from "./components/SignIn.tsx";
import type { PollPolicy } from "./poll.ts";
import { createSessionStore } from "./session.ts";

export interface AppProps {
  config: ConsoleConfig;
  /** Where the key and the jobs live; the browser's sessionStorage by default. */
  storage?: Storage;
  fetch?: Fetch;
  pollPolicy?: PollPolicy;
}

export function App({ config, storage, fetch, pollPolicy }: AppProps) {
  const store = useMemo(() => createSessionStore(storage ?? window.sessionStorage), [storage]);
  const [apiKey, setApiKey] = useState(() => store.key());
  const [notice, setNotice] = useState<string>();

  const signIn = useCallback(
    (key: string) => {
      store.setKey(key);
      setNotice(undefined);
      setApiKey(key);
    },
    [store],
  );
  const signOut = useCallback(
    (message?: string) => {
      store.clear();
      setNotice(message);
      setApiKey(undefined);
    },
    [store],
  );

  if (!apiKey) {
    return (
      <>
        {notice && (
          <p role="alert" className="error banner">
            {notice}
          </p>
        )}
        <SignIn onSignedIn={signIn} {...(fetch ? { fetch } : {})} />
      </>
    );
  }
  return (
    <Console
      apiKey={apiKey}
      store={store}
      maxUploadBytes={config.maxUploadBytes}
      onSignOut={signOut}
      {...(fetch ? { fetch } : {})}
      {...(pollPolicy ? { pollPolicy } : {})}
    />
  );
}
