/** bun test preload: stops the shared embedded Postgres once every test file has run. */
import { afterAll } from "bun:test";
import { stopTestPostgres } from "./test-db";

afterAll(stopTestPostgres);
