using System.Globalization;

namespace DeviceMesh;

/// <summary>The run's settings, from the command line; every one has a default that finishes in well under 30 s.</summary>
internal sealed record MeshOptions
{
    public int Devices { get; init; } = 300;

    public int Services { get; init; } = 4;

    public int Rounds { get; init; } = 20;

    public int VouchersPerRound { get; init; } = 10;

    public int TicksPerRound { get; init; } = 100;

    public int SettleEvery { get; init; } = 5;

    public int Seed { get; init; } = 42;

    public string? DataDirectory { get; init; }

    public bool Plain { get; init; }

    public const string Help = """
        DeviceMesh: simulated IoT devices, each with its own Ed25519 identity and spending policy, pay each other and
        metered services through payment channels (signed vouchers and hash-chain ticks), verified offline by the
        payees and settled periodically through the durable ledger engine on the embedded file store. Midway one
        device is stolen and revoked; a large purchase needs the owner's co-signature (step-up). At the end a receipt
        is verified offline and the whole journal is audited.

        Usage: dotnet run --project samples/DeviceMesh -c Release [-- options]

        Options:
          --devices N       devices (default 300; at least 2)
          --services N      metered services (default 4; at least 1)
          --rounds N        rounds of payments (default 20; at least 2)
          --vouchers N      voucher payments per device per round, to a service or a peer (default 10)
          --ticks N         hash-chain ticks per device per round, to its metered service (default 100)
          --settle-every N  payees redeem what they hold every N rounds (default 5)
          --seed N          the seed of every random choice and key (default 42): the same seed gives the same
                            devices, payments, outcomes and totals (timings and the ledger's instance id differ)
          --data DIR        keep the ledger's files in DIR (must not exist yet); default: a temporary directory,
                            deleted at the end
          --plain           plain line output, no live table (chosen automatically when output is redirected)
          -h, --help        this text

        Exit codes: 0 every result as expected; 1 an unexpected result (printed); 2 bad arguments.
        """;

    /// <summary>Parses the arguments; null with <paramref name="error"/> set when they are wrong, or <paramref name="help"/> when asked.</summary>
    public static MeshOptions? Parse(string[] args, out bool help, out string? error)
    {
        help = false;
        error = null;
        var options = new MeshOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name is "-h" or "--help" or "-?")
            {
                help = true;
                return null;
            }

            if (name == "--plain")
            {
                options = options with { Plain = true };
                continue;
            }

            if (i + 1 >= args.Length)
            {
                error = $"{name} needs a value (or is not an option; see --help).";
                return null;
            }

            string value = args[++i];
            if (name == "--data")
            {
                options = options with { DataDirectory = value };
                continue;
            }

            if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number))
            {
                error = $"{name} needs a whole number, not '{value}'.";
                return null;
            }

            (options, error) = name switch
            {
                "--devices" when number >= 2 && number <= 100_000 => (options with { Devices = number }, null),
                "--services" when number >= 1 && number <= 1_000 => (options with { Services = number }, null),
                "--rounds" when number >= 2 && number <= 10_000 => (options with { Rounds = number }, null),
                "--vouchers" when number >= 0 && number <= 10_000 => (options with { VouchersPerRound = number }, null),
                "--ticks" when number >= 0 && number <= 10_000 => (options with { TicksPerRound = number }, null),
                "--settle-every" when number >= 1 => (options with { SettleEvery = number }, null),
                "--seed" => (options with { Seed = number }, null),
                "--devices" or "--services" or "--rounds" or "--vouchers" or "--ticks" or "--settle-every" =>
                    (options, $"{name} {number} is out of range (see --help)."),
                _ => (options, $"Unknown option '{name}' (see --help)."),
            };
            if (error is not null)
            {
                return null;
            }
        }

        // Every tick a device can send must fit its hash chain.
        if ((long)options.TicksPerRound * options.Rounds > Mesh.ChainLength)
        {
            error = $"--ticks × --rounds is {(long)options.TicksPerRound * options.Rounds}, more than a device's hash chain of {Mesh.ChainLength} ticks.";
            return null;
        }

        if (options.DataDirectory is { } data && (Directory.Exists(data) || File.Exists(data)))
        {
            error = $"--data '{data}' already exists; give a new directory (the run creates it).";
            return null;
        }

        return options;
    }
}
