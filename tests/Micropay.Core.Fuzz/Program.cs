using Micropay.Core.Fuzz;
using SharpFuzz;

// micropay-fuzz fuzz <target>             run under afl-fuzz (reads each input from AFL's shared memory loop)
// micropay-fuzz seed <corpus dir>          writes the seed corpus of every target (made by the real encoders)
// micropay-fuzz replay <target> <paths..>  runs the target's check on files (or every file of folders); exit 1 on a finding
// micropay-fuzz list                       prints the target names
// micropay-fuzz fuzz canary                a planted finding (see README.md): proves AFL++ sees a check's exception
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: fuzz <target> | seed <dir> | replay <target> <path>... | list");
    return 2;
}

switch (args[0])
{
    case "list":
        foreach ((string name, _) in FuzzTargets.All)
        {
            Console.WriteLine(name);
        }

        return 0;
    case "fuzz" when args.Length == 2:
        Action<byte[]> check = args[1] == "canary" ? Canary : FuzzTargets.Get(args[1]);
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            check(buffer.ToArray());
        });
        return 0;
    case "seed" when args.Length == 2:
        int written = SeedCorpus.Write(args[1]);
        Console.WriteLine($"{written} seed files written under {args[1]}");
        return 0;
    case "replay" when args.Length >= 3:
        Action<byte[]> target = FuzzTargets.Get(args[1]);
        int failures = 0, total = 0;
        foreach (string path in args[2..].SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories) : [p]))
        {
            total++;
            try
            {
                target(File.ReadAllBytes(path));
            }
            catch (Exception e)
            {
                failures++;
                Console.WriteLine($"FINDING {path}: {e.GetType().Name}: {e.Message}");
                Console.WriteLine(e.StackTrace);
            }
        }

        Console.WriteLine($"{total} inputs replayed through {args[1]}, {failures} findings");
        return failures == 0 ? 0 : 1;
    default:
        Console.Error.WriteLine("usage: fuzz <target> | seed <dir> | replay <target> <path>... | list");
        return 2;
}

// Fails on a voucher whose kind byte is wrong, which one byte's mutation of a voucher seed gives: a run of this target
// on corpus/voucher must report crashes within seconds, or the pipeline (instrumentation, fork server, crash
// reporting) is broken and a run's "0 crashes" means nothing.
static void Canary(byte[] input)
{
    if (!Micropay.Core.Channels.Voucher.TryParse(input, out _, out Micropay.Core.Channels.ChannelFormatError error) &&
        error == Micropay.Core.Channels.ChannelFormatError.UnknownKind)
    {
        throw new FuzzCheckException("canary: a voucher of an unknown kind");
    }
}
