/**
 * The part of @eta/events the replay uses: `newEventId` and `createProducer`. Loaded through a computed URL
 * because the loadtest TypeScript project does not reference packages/events (a static import would pull
 * its sources into this project and break `tsc -b`, as with services/*); the surface used is described here,
 * so a drift in it fails at run time. Giving loadtest a workspace dependency on @eta/events and a project
 * reference would make this a plain import.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface OutgoingEvent {
  readonly key: string;
  readonly value: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface EventsProducer {
  publish(topic: { readonly name: string }, events: readonly OutgoingEvent[]): Promise<void>;
  close(): Promise<void>;
}

export interface EventsLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface EventsPackage {
  newEventId(now?: number): string;
  createProducer(options: {
    brokers: readonly string[];
    clientId: string;
    log: EventsLog;
  }): Promise<EventsProducer>;
  readonly silentLog: EventsLog;
}

/** @eta/events of the checkout at `root`. */
export async function loadEventsPackage(root: string): Promise<EventsPackage> {
  return (await import(
    pathToFileURL(join(root, 'packages', 'events', 'src', 'index.ts')).href
  )) as EventsPackage;
}
