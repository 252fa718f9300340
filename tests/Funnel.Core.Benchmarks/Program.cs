using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Funnel.Core.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Funnel.Benchmarks.FunnelReportBenchmarks).Assembly).Run(args);
