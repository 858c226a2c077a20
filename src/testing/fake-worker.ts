/**
 * TEST SUPPORT: a fake Worker API for the dispatcher's tests, a real hono app on a real port speaking the worker
 * contract: it records the runs and cancels it gets and answers runs as the test says (completed by default).
 */
import { Hono } from "hono";
import * as v from "valibot";
import { canceledJobId, WORKER_API } from "../contracts/routes";
import type { RunJobRequest } from "../contracts/worker-api";
import { completedRun } from "./completed-run";

export type FakeWorker = {
  url: string;
  /** The bearer token the orchestrator must send; set from the node's config. */
  token: string;
  runs: RunJobRequest[];
  cancels: string[];
  peak: number;
  /** How the next run requests are answered; default: completed after `hold` is released. */
  answer: (req: RunJobRequest) => Response | Promise<Response>;
  release(): void;
  waitForRuns(n: number): Promise<void>;
  stop(): Promise<void>;
};

/** What the fake answers a run with: it completed, printing `ran <job id>`. */
export const fakeRunAnswer = (req: RunJobRequest, status: "completed" | "failed" = "completed") =>
  completedRun(req, { stdout: `ran ${req.job_id}`, status, at: "2026-03-01T10:00:00Z" });

export function startFakeWorker(opts: { hold?: boolean } = {}): FakeWorker {
  const gate = Promise.withResolvers<void>();
  if (!opts.hold) gate.resolve();
  let inFlight = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const worker: FakeWorker = {
    url: "",
    token: "",
    runs: [],
    cancels: [],
    peak: 0,
    answer: async (req) => {
      await gate.promise;
      return Response.json(fakeRunAnswer(req));
    },
    release: () => gate.resolve(),
    waitForRuns(n) {
      if (worker.runs.length >= n) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      waiters.push({ n, resolve });
      return promise;
    },
    stop: () => server.stop(true),
  };
  const app = new Hono()
    .get(WORKER_API.healthz.pattern, (c) => c.text("ok"))
    .use(async (c, next) => {
      if (c.req.header("authorization") !== `Bearer ${worker.token}`)
        return c.json({ detail: "Invalid or missing bearer token" }, 401);
      await next();
    })
    .post(WORKER_API.runJob.pattern, async (c) => {
      const req = v.parse(WORKER_API.runJob.body, await c.req.json());
      worker.runs.push(req);
      inFlight++;
      worker.peak = Math.max(worker.peak, inFlight);
      for (const w of waiters.filter((w) => worker.runs.length >= w.n)) w.resolve();
      try {
        return await worker.answer(req);
      } finally {
        inFlight--;
      }
    })
    .post(WORKER_API.cancelJob.pattern, (c) => {
      const target = c.req.param("target");
      worker.cancels.push(canceledJobId(target) ?? target);
      return c.json({ canceled: true });
    });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
  worker.url = `http://127.0.0.1:${server.port}`;
  return worker;
}
