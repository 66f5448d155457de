using System.Buffers;
using System.Buffers.Binary;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// Snapshot sections: the engine writes a versioned envelope of named sections whose owners write their own bytes; it
/// reads them back by name, opens the snapshots engines wrote before sections existed (the ledger's bytes alone), and
/// refuses, naming the offset and the reason, an envelope that is malformed or holds a section this build does not know.
/// </summary>
public sealed class SnapshotEnvelopeTests : EngineTestKit
{
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal) { "channels", "ledger" };

    [Fact]
    public void WriteThenRead_TwoSections_EachReadsBackItsOwnBytes()
    {
        byte[] envelope = Write(new BytesSection("channels", [1, 2, 3]), new BytesSection("ledger", [.. Enumerable.Range(0, 300).Select(i => (byte)(i % 256))]));

        // Golden header: magic, version 1, two sections, reserved; then the first frame.
        Assert.Equal(Convert.FromHexString("4D505345" + "01000000" + "02000000" + "00000000" + "0800" + "6368616E6E656C73" + "0300000000000000" + "010203"), envelope[..37]);
        Dictionary<string, ReadOnlySequence<byte>> sections = SnapshotEnvelope.Read(Fragmented(envelope, 7), Known);
        Assert.Equal([1, 2, 3], sections["channels"].ToArray());
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (byte)(i % 256)), sections["ledger"].ToArray());
    }

    [Fact]
    public void Read_LedgerSnapshotWithoutEnvelope_IsTheLedgerSection()
    {
        var ledger = new LedgerStateMachine();
        ledger.CreateAccount(1, new Account { Id = 1, LedgerId = 1, Code = 1 });
        byte[] legacy = new byte[ledger.SnapshotSize];
        ledger.WriteSnapshot(legacy);

        ReadOnlySequence<byte> section = Assert.Single(SnapshotEnvelope.Read(new ReadOnlySequence<byte>(legacy), Known), s => s.Key == "ledger").Value;
        Assert.Equal(legacy, section.ToArray());
    }

    [Fact]
    public void Read_SectionThisBuildDoesNotKnow_RefusesNamingIt()
    {
        byte[] envelope = Write(new BytesSection("keys", [9]), new BytesSection("ledger", [1]));
        var error = Assert.Throws<LedgerSnapshotException>(() => SnapshotEnvelope.Read(new ReadOnlySequence<byte>(envelope), Known));
        Assert.Contains("section \"keys\" that this build does not know (it knows channels, ledger)", error.Message);
        Assert.Equal(18, error.Offset);
    }

    public static TheoryData<string, int, string> Damage => new()
    {
        { "magic", 0, "neither the envelope's magic" },
        { "version", 4, "version is 2" },
        { "count", 8, "section count is 0" },
        { "reserved", 12, "reserved field is not zero" },
        { "name length", 16, "name is 0 bytes" },
        { "name byte", 18, "outside ASCII letters" },
        { "length", 24, "claims 1000 bytes" },
        { "trailing", 47, "1 bytes follow the last section" },
        { "truncated", 40, "the snapshot ends inside section 1's frame" },
    };

    [Theory]
    [MemberData(nameof(Damage))]
    public void Read_DamagedEnvelope_ThrowsNamingTheOffsetAndReason(string damage, int offset, string reason)
    {
        byte[] envelope = Write(new BytesSection("ledger", [1, 2, 3]), new BytesSection("zz", []));
        envelope = damage switch
        {
            "magic" => Set(envelope, 0, 0x58),
            "version" => Set(envelope, 4, 2),
            "count" => Set(envelope, 8, 0),
            "reserved" => Set(envelope, 12, 1),
            "name length" => Set(Set(envelope, 16, 0), 17, 0),
            "name byte" => Set(envelope, 18, (byte)'/'),
            "length" => SetLength(envelope, 24, 1000),
            "trailing" => [.. envelope, 0],
            _ => envelope[..40],
        };

        var known = new HashSet<string>(Known) { "zz" };
        var error = Assert.Throws<LedgerSnapshotException>(() => SnapshotEnvelope.Read(new ReadOnlySequence<byte>(envelope), known));
        Assert.Contains(reason, error.Message);
        Assert.Equal(offset, error.Offset);
    }

    [Fact]
    public async Task Engine_SnapshotItWrites_IsAnEnvelopeOfTheLedgersBytesAndItsInstanceId()
    {
        UInt128 id;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            id = engine.InstanceId;
            Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
            Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(2)));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 5)));
            Assert.NotEqual(0UL, await engine.TakeSnapshotAsync());
        }

        JournalReplay replay = await ReplayJournalAsync(Directory);
        byte[] expected = new byte[replay.Ledger.SnapshotSize];
        replay.Ledger.WriteSnapshot(expected);

        await using var store = new FileLedgerStore(Directory);
        await store.OpenAsync();
        using LedgerSnapshot snapshot = (await store.ReadLatestSnapshotAsync())!;
        Assert.Equal("MPSE"u8.ToArray(), snapshot.State.Slice(0, 4).ToArray());
        var sections = SnapshotEnvelope.Read(snapshot.State, new HashSet<string> { "audit", "channels", "identity", "instance", "ledger" });
        Assert.Equal(["audit", "channels", "identity", "instance", "ledger"], sections.Keys.Order(StringComparer.Ordinal));

        // A ledger without channels or keys: each section holds its version and a count of 0.
        Assert.Equal(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0 }, sections["channels"].ToArray());
        Assert.Equal(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0 }, sections["identity"].ToArray());
        Assert.Equal(expected, sections["ledger"].ToArray());
        Assert.NotEqual(UInt128.Zero, id);
        Assert.Equal(id, DecodeInstanceSection(sections["instance"].ToArray()));
    }

    [Fact]
    public async Task OpenAsync_SnapshotWrittenBeforeSections_RecoversFromIt()
    {
        // What an engine without sections wrote (engines then had no instance ids either): a journal of accounts and
        // transfers, without a SetInstanceId batch, and a snapshot of the ledger's bytes alone at its last batch.
        Account[] accounts = [Acct(1), Acct(2), Acct(3), Acct(4)];
        LedgerStateMachine written = await WriteJournalWithoutInstanceIdAsync(Directory, 1_000_000_000, accounts, new[] { Tr(10, 1, 2, 5) });
        byte[] legacy = new byte[written.SnapshotSize];
        written.WriteSnapshot(legacy);
        await using (var store = new FileLedgerStore(Directory))
        {
            await store.OpenAsync();
            await store.WriteSnapshotAsync(2, legacy);
        }

        await using (LedgerEngine reopened = await OpenFileEngineAsync())
        {
            Assert.Equal(2UL, reopened.LatestSnapshotBatchNumber);
            Assert.Equal(written.Accounts.ToArray(), reopened.ReadAllAccounts());
            Assert.True(written.TryGetTransfer(10, out Transfer expected));
            Assert.True(reopened.TryGetTransfer(10, out Transfer recovered));
            Assert.Equal(expected, recovered);
            Assert.Equal(CreateTransferResult.Ok, await reopened.CreateTransferAsync(Tr(11, 3, 4, 1)));
        }

        // The journal from batch 1 (the open gave the ledger its instance id after the snapshot's batch) agrees with an
        // engine recovered from the old snapshot and the batches after it.
        JournalReplay replay = await ReplayJournalAsync(Directory);
        await using LedgerEngine again = await OpenFileEngineAsync();
        Assert.Equal(2UL, again.LatestSnapshotBatchNumber);
        AssertSameState(replay.Ledger, again, [10, 11]);
    }

    private static byte[] Write(params SnapshotSection[] sections)
    {
        var writer = new ArrayBufferWriter<byte>();
        SnapshotEnvelope.Write(sections, writer);
        Assert.Equal(SnapshotEnvelope.SizeOf(sections), writer.WrittenCount);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>The bytes as a sequence of segments of <paramref name="size"/> bytes, so frames straddle segment ends.</summary>
    private static ReadOnlySequence<byte> Fragmented(byte[] bytes, int size) =>
        Micropay.Core.Storage.Sequences.Join([.. bytes.Chunk(size).Select(c => (ReadOnlyMemory<byte>)c)]);

    private static byte[] Set(byte[] bytes, int at, byte value)
    {
        byte[] copy = [.. bytes];
        copy[at] = value;
        return copy;
    }

    private static byte[] SetLength(byte[] bytes, int at, long value)
    {
        byte[] copy = [.. bytes];
        BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(at), value);
        return copy;
    }

    private sealed class BytesSection(string name, byte[] bytes) : SnapshotSection(name)
    {
        public override long Size => bytes.Length;

        public override void Write(IBufferWriter<byte> destination)
        {
            bytes.CopyTo(destination.GetSpan(bytes.Length));
            destination.Advance(bytes.Length);
        }
    }
}
