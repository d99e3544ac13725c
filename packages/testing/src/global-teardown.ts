/** Stops any containers the global setup started. */
export default async function globalTeardown(): Promise<void> {
  const containers =
    (globalThis as { __rekorBudgetContainers?: { stop(): Promise<unknown> }[] }).__rekorBudgetContainers ??
    [];
  await Promise.all(containers.map((c) => c.stop()));
}
