import { useId } from "react";
import type { JobResult } from "../api.ts";

const SENTIMENT_TEXT = { positive: "Positive", neutral: "Neutral", negative: "Negative" } as const;

export function readingTime(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
}

const number = (n: number) => n.toLocaleString("en-US");

/** What the processor made of a document: summary, keywords, sentiment, text stats, the raw JSON. */
export function ResultView({ result }: { result: JobResult }) {
  const id = useId();
  const maxScore = Math.max(...(result.keywords ?? []).map((k) => k.score), 0) || 1;
  return (
    <div className="result">
      {result.summary && (
        <section aria-labelledby={`${id}-summary`}>
          <h3 id={`${id}-summary`}>Summary</h3>
          {result.summary.length === 0 ? (
            <p className="muted">The document was too short to summarise.</p>
          ) : (
            <ul className="summary">
              {result.summary.map((sentence, i) => (
                // Sentences can repeat; their position is their identity here.
                // biome-ignore lint/suspicious/noArrayIndexKey: a summary is a fixed, ordered list
                <li key={i}>{sentence}</li>
              ))}
            </ul>
          )}
        </section>
      )}

      {result.keywords && (
        <section aria-labelledby={`${id}-keywords`}>
          <h3 id={`${id}-keywords`}>Keywords</h3>
          {result.keywords.length === 0 ? (
            <p className="muted">No keywords found.</p>
          ) : (
            <ol className="keywords">
              {result.keywords.map((k) => (
                <li key={k.term}>
                  <span className="term">{k.term}</span>
                  <meter min={0} max={maxScore} value={k.score} aria-label={`score of ${k.term}`} />
                  <span className="score">{k.score.toFixed(2)}</span>
                </li>
              ))}
            </ol>
          )}
        </section>
      )}

      {result.sentiment && (
        <section aria-labelledby={`${id}-sentiment`}>
          <h3 id={`${id}-sentiment`}>Sentiment</h3>
          <p className="sentiment">
            <span className={`badge badge-${result.sentiment.label}`}>
              {SENTIMENT_TEXT[result.sentiment.label]}
            </span>{" "}
            score {result.sentiment.score >= 0 ? "+" : ""}
            {result.sentiment.score.toFixed(2)} <span className="muted">(from −1 to +1)</span>
          </p>
        </section>
      )}

      <section aria-labelledby={`${id}-stats`}>
        <h3 id={`${id}-stats`}>Text statistics</h3>
        <dl className="stats">
          <div>
            <dt>Characters</dt>
            <dd>{number(result.stats.characters)}</dd>
          </div>
          <div>
            <dt>Words</dt>
            <dd>{number(result.stats.words)}</dd>
          </div>
          <div>
            <dt>Sentences</dt>
            <dd>{number(result.stats.sentences)}</dd>
          </div>
          <div>
            <dt>Reading time</dt>
            <dd>{readingTime(result.stats.readingTimeSeconds)}</dd>
          </div>
        </dl>
        <p className="muted small">
          Processed by {result.processor} ({result.model}) at {new Date(result.completedAt).toLocaleString()}
        </p>
      </section>

      <details className="raw">
        <summary>Raw JSON</summary>
        <pre>{JSON.stringify(result, null, 2)}</pre>
      </details>
    </div>
  );
}
