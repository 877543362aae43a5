// What multipath discovery has learned: the interfaces answering at each TTL, the links between
// consecutive answering interfaces with the flows that took them, and per interface the probes
// spent on its next hops and how it balances. Vertices are (TTL, address): the same router seen
// at two TTLs (paths of unequal length) is two vertices, as in scamper's tracelb.
import type { ProbeReply } from '../transport.js';

/** The vertex every flow starts from (the probing host), before the first TTL. */
export const SOURCE = 'source';

export function vertexKey(ttl: number, address: string): string {
  return `${ttl} ${address}`;
}

export interface Vertex {
  key: string;
  ttl: number;
  /** null for SOURCE */
  address: string | null;
  rtt: number | null;
  annotation: string | null;
  reached: boolean;
  final: boolean;
  /** probes sent from here to find next hops */
  probes: number;
  /** keys of the next hops found */
  successors: Set<string>;
  /** one flow was seen leaving here towards two different next hops */
  perPacket: boolean;
}

export interface Link {
  from: string;
  to: string;
  flows: Set<number>;
}

export class MultipathGraph {
  readonly vertices = new Map<string, Vertex>();
  readonly links = new Map<string, Link>();

  constructor(firstTtl: number) {
    this.vertices.set(SOURCE, newVertex(SOURCE, firstTtl - 1, null));
  }

  vertex(key: string): Vertex {
    const v = this.vertices.get(key);
    if (!v) throw new Error(`no vertex ${key}`);
    return v;
  }

  /** Records an answer at `ttl`; returns its vertex key. */
  answered(ttl: number, reply: ProbeReply, rtt: number): string {
    const key = vertexKey(ttl, reply.from);
    let v = this.vertices.get(key);
    if (!v) {
      v = newVertex(key, ttl, reply.from);
      this.vertices.set(key, v);
    }
    if (rtt >= 0 && (v.rtt === null || rtt < v.rtt)) v.rtt = rtt;
    v.annotation ??= reply.annotation;
    if (reply.reached) v.reached = true;
    if (reply.final) v.final = true;
    return key;
  }

  /** `flow` went from `from` (a vertex or SOURCE) to `to`. */
  link(from: string, to: string, flow: number): void {
    this.vertex(from).successors.add(to);
    if (from === SOURCE) return; // the first hops are listed, not linked
    const key = `${from}>${to}`;
    let l = this.links.get(key);
    if (!l) {
      l = { from, to, flows: new Set() };
      this.links.set(key, l);
    }
    l.flows.add(flow);
  }

  /** `flow` did not go from `from` to `to` after all (an inferred link the flow disproved). */
  unlink(from: string, to: string, flow: number): void {
    const key = `${from}>${to}`;
    const l = this.links.get(key);
    if (!l) return;
    l.flows.delete(flow);
    if (l.flows.size > 0) return;
    this.links.delete(key);
    this.vertex(from).successors.delete(to);
  }
}

function newVertex(key: string, ttl: number, address: string | null): Vertex {
  return { key, ttl, address, rtt: null, annotation: null, reached: false, final: false, probes: 0, successors: new Set(), perPacket: false };
}
