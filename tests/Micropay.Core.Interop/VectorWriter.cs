using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Micropay.Core.Interop;

/// <summary>
/// Writes vectors.json, which go/verify.go reads. Every vector is an object with a "name", an "expect" ("ok" or "fail")
/// and, for one that must fail, "fail_at": the one check that must reject it (so a vector that fails for another reason
/// is reported, not counted). Hashes are lowercase hex; a note is the base64 of its exact UTF-8 bytes.
/// </summary>
/// <remarks>
/// <code>
/// {
///   "format": "micropay-interop/1",
///   "vkey": the ledger's note verifier key (name+hash+base64),
///   "skey": the same key's signer key (PRIVATE+KEY+name+hash+base64): a test key, from a published seed,
///   "cosigner_vkey": the witness's C2SP tlog-cosignature key (name+hash+base64, type 0x04),
///   "leaves": [ { "index", "data" } ]  every leaf of the final tree, in order,
///   "notes": [ { "name", "expect", "fail_at"?, "note", "size"?, "root"?, "cosignature"? } ]
///            fail_at: "open" (note.Open), "body" (tlog-checkpoint rules), "origin" (origin != key name),
///            "cosignature" (the note opens but the witness's cosignature does not verify);
///            "cosignature": "ok" when the note carries the witness's cosignature, which must verify,
///   "receipts": [ { "name", "expect", "fail_at"?, "leaf_index", "tree_size", "leaf_data", "leaf_hash", "proof", "note" } ]
///            fail_at: "open", "leaf_hash" (the hash of leaf_data is not leaf_hash), "proof" (tlog.CheckRecord),
///   "inclusion": [ { "name", "expect", "fail_at"?, "leaf_index", "tree_size", "proof" } ]  roots from the verifier's own tree,
///   "consistency": [ { "name", "expect", "fail_at"?, "size1", "size2", "note1"?, "note2"?, "proof" } ]
///            with notes, the roots are the notes'; without, the verifier's own tree's
/// }
/// </code>
/// </remarks>
internal sealed class VectorWriter : IDisposable
{
    private readonly FileStream _file;
    private readonly Utf8JsonWriter _json;
    private readonly HashSet<string> _written = [];
    private string? _section;

    public VectorWriter(string path)
    {
        _file = File.Create(path);
        _json = new Utf8JsonWriter(_file, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _json.WriteStartObject();
        _json.WriteString("format", "micropay-interop/1");
    }

    /// <summary>How many vectors were written that must verify, and how many that must fail.</summary>
    public int Good { get; private set; }

    public int Bad { get; private set; }

    public void Header(string vkey, string skey, string cosignerVkey)
    {
        _json.WriteString("vkey", vkey);
        _json.WriteString("skey", skey);
        _json.WriteString("cosigner_vkey", cosignerVkey);
    }

    public void Leaves(IReadOnlyList<byte[]> leaves)
    {
        _json.WriteStartArray("leaves");
        for (int i = 0; i < leaves.Count; i++)
        {
            _json.WriteStartObject();
            _json.WriteNumber("index", i);
            _json.WriteString("data", Convert.ToHexStringLower(leaves[i]));
            _json.WriteEndObject();
        }

        _json.WriteEndArray();
    }

    public void Note(string name, string note, long? size, byte[]? root, string? failAt = null, bool cosigned = false)
    {
        Begin("notes", name, failAt);
        _json.WriteString("note", Note(note));
        if (size is { } s)
        {
            _json.WriteNumber("size", s);
        }

        if (root is not null)
        {
            _json.WriteString("root", Convert.ToHexStringLower(root));
        }

        if (cosigned)
        {
            _json.WriteString("cosignature", "ok");
        }

        _json.WriteEndObject();
    }

    public void Receipt(string name, long leafIndex, long treeSize, byte[] leafData, byte[] leafHash, byte[] proof, string note, string? failAt = null)
    {
        Begin("receipts", name, failAt);
        _json.WriteNumber("leaf_index", leafIndex);
        _json.WriteNumber("tree_size", treeSize);
        _json.WriteString("leaf_data", Convert.ToHexStringLower(leafData));
        _json.WriteString("leaf_hash", Convert.ToHexStringLower(leafHash));
        Proof(proof);
        _json.WriteString("note", Note(note));
        _json.WriteEndObject();
    }

    public void Inclusion(string name, long leafIndex, long treeSize, byte[] proof, string? failAt = null)
    {
        Begin("inclusion", name, failAt);
        _json.WriteNumber("leaf_index", leafIndex);
        _json.WriteNumber("tree_size", treeSize);
        Proof(proof);
        _json.WriteEndObject();
    }

    public void Consistency(string name, long size1, long size2, string? note1, string? note2, byte[] proof, string? failAt = null)
    {
        Begin("consistency", name, failAt);
        _json.WriteNumber("size1", size1);
        _json.WriteNumber("size2", size2);
        if (note1 is not null && note2 is not null)
        {
            _json.WriteString("note1", Note(note1));
            _json.WriteString("note2", Note(note2));
        }

        Proof(proof);
        _json.WriteEndObject();
    }

    public void Dispose()
    {
        if (_section is not null)
        {
            _json.WriteEndArray();
        }

        _json.WriteEndObject();
        _json.Dispose();
        _file.Dispose();
    }

    private static string Note(string note) => Convert.ToBase64String(Encoding.UTF8.GetBytes(note));

    // Vectors of one section are written together; a section opens its array at its first vector.
    private void Begin(string section, string name, string? failAt)
    {
        if (_section != section)
        {
            if (_section is not null)
            {
                _json.WriteEndArray();
            }

            if (!_written.Add(section))
            {
                throw new InvalidOperationException($"The \"{section}\" vectors were already written: a section's vectors are written together.");
            }

            _section = section;
            _json.WriteStartArray(section);
        }

        _json.WriteStartObject();
        _json.WriteString("name", name);
        _json.WriteString("expect", failAt is null ? "ok" : "fail");
        if (failAt is not null)
        {
            _json.WriteString("fail_at", failAt);
            Bad++;
        }
        else
        {
            Good++;
        }
    }

    private void Proof(byte[] proof)
    {
        _json.WriteStartArray("proof");
        for (int at = 0; at < proof.Length; at += 32)
        {
            _json.WriteStringValue(Convert.ToHexStringLower(proof.AsSpan(at, 32)));
        }

        _json.WriteEndArray();
    }
}
