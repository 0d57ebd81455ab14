/** State stores: interfaces the operators keep their state in, and their in-memory implementations. */
export type { ChangeListener, StateStore } from './changes.js';
export { InMemoryKeyValueStore, type KeyValueChange, type KeyValueStore } from './key-value-store.js';
export { InMemoryWindowStore, type WindowChange, type WindowStore, type WindowStoreEntry } from './window-store.js';
export { InMemorySessionStore, type SessionChange, type SessionStore, type SessionStoreEntry } from './session-store.js';
