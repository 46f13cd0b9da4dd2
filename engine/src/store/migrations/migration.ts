/** A versioned schema change; its own file so migrations and their list don't import each other. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}
