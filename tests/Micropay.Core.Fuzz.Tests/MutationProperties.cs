using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Micropay.Core.Fuzz.Tests;

/// <summary>
/// Structure-aware mutation of each parser's corpus with FsCheck: bit flips, byte overwrites, truncations, splices of
/// two valid encodings, and inserted or deleted runs, one to four at a time; the target's check (no exception, round
/// trip, repaired inputs accepted) must hold for every mutant. The same properties AFL++ checks, in CI's time.
/// </summary>
public sealed class MutationProperties
{
    private const int Tests = 150;

    /// <summary>One edit: its kind and three numbers it reads positions and values from.</summary>
    public readonly record struct Edit(byte Kind, int A, int B, int C);

    public static Arbitrary<Edit> Edits() =>
        Gen.Choose(0, 5).SelectMany(kind => Gen.Choose(0, int.MaxValue).Three().Select(t => new Edit((byte)kind, t.Item1, t.Item2, t.Item3))).ToArbitrary();

    [Property(MaxTest = Tests, Arbitrary = [typeof(MutationProperties)])]
    public void Journal_SurvivesMutation(NonNegativeInt seed, Edit[] edits) => Check("journal", seed, edits);

    [Property(MaxTest = Tests, Arbitrary = [typeof(MutationProperties)])]
    public void Snapshot_SurvivesMutation(NonNegativeInt seed, Edit[] edits) => Check("snapshot", seed, edits);

    [Property(MaxTest = Tests, Arbitrary = [typeof(MutationProperties)])]
    public void Voucher_SurvivesMutation(NonNegativeInt seed, Edit[] edits) => Check("voucher", seed, edits);

    [Property(MaxTest = Tests, Arbitrary = [typeof(MutationProperties)])]
    public void Tick_SurvivesMutation(NonNegativeInt seed, Edit[] edits) => Check("tick", seed, edits);

    [Property(MaxTest = Tests, Arbitrary = [typeof(MutationProperties)])]
    public void Certificate_SurvivesMutation(NonNegativeInt seed, Edit[] edits) => Check("certificate", seed, edits);

    [Property(MaxTest = Tests, Arbitrary = [typeof(MutationProperties)])]
    public void Order_SurvivesMutation(NonNegativeInt seed, Edit[] edits) => Check("order", seed, edits);

    [Property(MaxTest = Tests, Arbitrary = [typeof(MutationProperties)])]
    public void AuthenticatorData_SurvivesMutation(NonNegativeInt seed, Edit[] edits) => Check("authdata", seed, edits);

    [Property(MaxTest = Tests, Arbitrary = [typeof(MutationProperties)])]
    public void ClientData_SurvivesMutation(NonNegativeInt seed, Edit[] edits) => Check("clientdata", seed, edits);

    [Property(MaxTest = Tests, Arbitrary = [typeof(MutationProperties)])]
    public void Note_SurvivesMutation(NonNegativeInt seed, Edit[] edits) => Check("note", seed, edits);

    [Property(MaxTest = Tests, Arbitrary = [typeof(MutationProperties)])]
    public void Checkpoint_SurvivesMutation(NonNegativeInt seed, Edit[] edits) => Check("checkpoint", seed, edits);

    [Property(MaxTest = Tests, Arbitrary = [typeof(MutationProperties)])]
    public void Inclusion_SurvivesMutation(NonNegativeInt seed, Edit[] edits) => Check("inclusion", seed, edits);

    [Property(MaxTest = Tests, Arbitrary = [typeof(MutationProperties)])]
    public void Consistency_SurvivesMutation(NonNegativeInt seed, Edit[] edits) => Check("consistency", seed, edits);

    [Fact]
    public void Mutate_MakesEveryKindOfEdit()
    {
        byte[] a = [1, 2, 3, 4, 5, 6, 7, 8];
        byte[] b = [9, 9, 9, 9];
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 0], Mutate(a, b, new Edit(0, 7, 3, 0)));
        Assert.Equal([1, 2, 3, 4, 5, 0xAA, 7, 8], Mutate(a, b, new Edit(1, 5, 0xAA, 0)));
        Assert.Equal([1, 2, 3], Mutate(a, b, new Edit(2, 3, 0, 0)));
        Assert.Equal([1, 2, 9, 9], Mutate(a, b, new Edit(3, 2, 2, 0)));
        Assert.Equal([1, 0xCC, 0xCC, 2, 3, 4, 5, 6, 7, 8], Mutate(a, b, new Edit(4, 1, 1, 0xCC)));
        Assert.Equal([1, 2, 6, 7, 8], Mutate(a, b, new Edit(5, 2, 2, 0)));
    }

    private static void Check(string target, NonNegativeInt seed, Edit[] edits)
    {
        byte[][] corpus = Corpus.Files(target);
        byte[] input = corpus[seed.Get % corpus.Length];
        foreach (Edit edit in edits.Take(4))
        {
            input = Mutate(input, corpus[edit.C % corpus.Length], edit);
        }

        FuzzTargets.Get(target)(input);
    }

    private static byte[] Mutate(byte[] input, byte[] other, Edit edit)
    {
        int length = input.Length;
        switch (edit.Kind)
        {
            case 0 when length > 0:
                byte[] flipped = (byte[])input.Clone();
                flipped[edit.A % length] ^= (byte)(1 << (edit.B % 8));
                return flipped;
            case 1 when length > 0:
                byte[] set = (byte[])input.Clone();
                set[edit.A % length] = unchecked((byte)edit.B);
                return set;
            case 2:
                return input[..(edit.A % (length + 1))];
            case 3:
                // A splice: the head of this encoding and the tail of another (a seed of the same target).
                return [.. input.AsSpan(0, edit.A % (length + 1)), .. other.AsSpan(edit.B % (other.Length + 1))];
            case 4:
                int at = edit.A % (length + 1);
                return [.. input.AsSpan(0, at), .. Enumerable.Repeat(unchecked((byte)edit.C), (edit.B % 16) + 1), .. input.AsSpan(at)];
            case 5 when length > 0:
                int from = edit.A % length;
                int count = Math.Min((edit.B % 16) + 1, length - from);
                return [.. input.AsSpan(0, from), .. input.AsSpan(from + count)];
            default:
                return input;
        }
    }
}
