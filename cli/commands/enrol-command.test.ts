import { createServer, type AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { enrolCommand, enrolSpec } from "./enrol-command.ts";
import { memoryIo, parseFlags } from "./flags.ts";
import { usageOf } from "../../test/support/cli.ts";

const TOKEN = "an-admin-token-of-some-length";

const usage = (argv: string[], env: Record<string, string> = {}) => usageOf(enrolSpec, argv, env);

describe("consilium enrol", () => {
  it("takes the coordinator, the name and the admin token (flag or environment)", () => {
    const expected = { coordinator: "http://127.0.0.1:8787", name: "Hôpital de Genève", "admin-token": TOKEN };
    expect(parseFlags(enrolSpec, ["--coordinator", "http://127.0.0.1:8787", "--name", "Hôpital de Genève", "--admin-token", TOKEN])).toEqual(expected);
    expect(parseFlags(enrolSpec, ["--coordinator", "http://127.0.0.1:8787", "--name", "Hôpital de Genève"], { CONSILIUM_ADMIN_TOKEN: TOKEN })).toEqual(expected);
  });

  it("refuses missing and bad flags with one line naming the flag", () => {
    expect(usage(["--name", "A", "--admin-token", TOKEN])).toBe("--coordinator: required");
    expect(usage(["--coordinator", "http://h:1", "--admin-token", TOKEN])).toBe("--name: required");
    expect(usage(["--coordinator", "http://h:1", "--name", "", "--admin-token", TOKEN])).toBe("--name: must not be empty");
    expect(usage(["--coordinator", "http://h:1", "--name", "x".repeat(201), "--admin-token", TOKEN])).toBe(`--name: must be at most 200 characters (got "${"x".repeat(201)}")`);
    expect(usage(["--coordinator", "http://h:1", "--name", "A"])).toBe("--admin-token (or CONSILIUM_ADMIN_TOKEN): required");
    expect(usage(["--coordinator", "http://h:1", "--name", "A", "--token", TOKEN])).toBe("unknown flag --token");
  });

  it("says which coordinator it could not reach, and prints nothing on stdout", async () => {
    // Prepare: a port that was free a moment ago
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const io = memoryIo();
    // Execute / Assert
    await expect(enrolCommand(["--coordinator", `http://127.0.0.1:${port}`, "--name", "A", "--admin-token", TOKEN], { io })).rejects.toThrow(
      `cannot reach the coordinator at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(io.outLines).toEqual([]);
  });
});
