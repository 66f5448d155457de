namespace Micropay.Core.Tests.Storage.Disk;

/// <summary>The kinds of call a <see cref="SimulatedDisk"/> can fail on demand.</summary>
internal enum DiskOperation
{
    Open,
    Stat,
    Read,
    Write,
    Flush,
    SetLength,
    Move,
    Delete,
    List,
    CreateDirectory,
    SyncDirectory,
    Lock,
}
