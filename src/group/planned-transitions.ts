/**
 * The transition table both group machines share. Each is "planned": a pure `plan` function
 * decides an event's whole outcome (target state, context changes, responses or commands), and
 * the machine only has to move where the plan says. So for every state and event the machine has
 * one guarded transition per other state (`goesTo`: does the plan lead there?) and a final
 * "stay", all running the `apply` action that carries the plan out. Spelling the targets out,
 * rather than computing one, keeps every edge visible to xstate's graph tools and the
 * model-based tests.
 */
export interface PlannedTransition<S extends string> {
  readonly guard?: { readonly type: 'goesTo'; readonly params: { readonly from: S; readonly to: S } };
  readonly target?: S;
  readonly actions: { readonly type: 'apply'; readonly params: { readonly from: S } };
}

/** The `on` table of state `from`: for each event type, the transitions to every other state, then staying. */
export function plannedTransitions<S extends string, E extends string>(states: readonly S[], eventTypes: readonly E[], from: S): Record<E, PlannedTransition<S>[]> {
  const apply = { type: 'apply', params: { from } } as const;
  return Object.fromEntries(
    eventTypes.map((type) => [
      type,
      [...states.filter((to) => to !== from).map((to) => ({ guard: { type: 'goesTo', params: { from, to } } as const, target: to, actions: apply })), { actions: apply }],
    ]),
  ) as Record<E, PlannedTransition<S>[]>;
}
