/** The error a run rejected with; fails the test when the run resolves instead. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected the run to fail, it returned ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}
