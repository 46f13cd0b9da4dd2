/**
 * Keeps a chart failure (no canvas, a chunk that failed to load after a redeploy) inside the trend
 * panel: the table of values below it still answers the question.
 */
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  readonly children: ReactNode;
}

interface State {
  readonly failed: string | undefined;
}

export class ChartErrorBoundary extends Component<Props, State> {
  override state: State = { failed: undefined };

  static getDerivedStateFromError(err: unknown): State {
    return { failed: err instanceof Error ? err.message : String(err) };
  }

  override componentDidCatch(err: unknown, info: ErrorInfo): void {
    // Not swallowed: the console keeps it for whoever supports the EHR integration.
    console.error('trend chart failed', err, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.failed !== undefined) {
      return (
        <p className="note">
          The chart could not be drawn ({this.state.failed}); the values are in the table below.
        </p>
      );
    }
    return this.props.children;
  }
}
