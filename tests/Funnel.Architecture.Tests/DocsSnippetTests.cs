using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;

namespace Funnel.Architecture.Tests;

/// <summary>
/// Every <c>```csharp</c> block of docs/*.md and README.md is code that compiles: its text (whitespace-normalised)
/// appears in a file under samples/, which the solution builds.
/// </summary>
public partial class DocsSnippetTests
{
    /// <summary>
    /// Pages being rewritten by other engineers while this test was written (issue 14). The lead empties this list
    /// once each page has its snippets in samples/Funnel.Samples.Snippets; do not add pages to it.
    /// </summary>
    private static readonly ImmutableHashSet<string> NotYetChecked =
    [
    ];

    private static readonly string Root = FindRoot();

    /// <summary>Every page of docs/ not on <see cref="NotYetChecked"/>, and README.md.</summary>
    public static TheoryData<string> Pages()
    {
        TheoryData<string> pages = [];
        foreach (string page in Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal))
        {
            if (!NotYetChecked.Contains(Relative(page)))
            {
                pages.Add(Relative(page));
            }
        }

        pages.Add("README.md");
        return pages;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Snippets_OfEachPage_AppearInASample(string page)
    {
        string samples = SampleText.Value;

        string[] missing =
        [
            .. CSharpBlocks(File.ReadAllText(Path.Combine(Root, page)))
                .Where(block => Normalise(block).Length > 0 && !samples.Contains(Normalise(block), StringComparison.Ordinal))
                .Select(block => $"{page}: the block starting `{FirstLine(block)}` is not in any file under samples/"),
        ];

        missing.ShouldBeEmpty();
    }

    [Fact]
    public void CSharpBlocks_OfAPage_AreExtractedWithTheirCode()
    {
        const string Page = "Text\n\n```csharp\nvar a = 1;\n```\n\n```shell\nls\n```\n\n  ```csharp\n  var b = 2;\n  ```\n";

        string[] blocks = [.. CSharpBlocks(Page)];

        blocks.ShouldBe(["var a = 1;", "var b = 2;"]);
    }

    [Fact]
    public void Normalise_DifferentIndentationAndLineBreaks_GiveTheSameText()
    {
        Normalise("  foo(a,\n      b);\r\n\tbar();").ShouldBe(Normalise("foo(a, b);\nbar();"));
        Normalise("foo(a, b);").ShouldNotBe(Normalise("foo(a, c);"));
    }

    [Fact]
    public void NotYetChecked_NamesOnlyPagesThatExist()
    {
        NotYetChecked.Where(page => !File.Exists(Path.Combine(Root, page))).ShouldBeEmpty();
    }

    private static readonly Lazy<string> SampleText = new(() =>
    {
        StringBuilder text = new();
        foreach (string file in Directory.EnumerateFiles(Path.Combine(Root, "samples"), "*.cs*", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                              && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                              && (f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".cshtml", StringComparison.Ordinal))))
        {
            text.Append(Normalise(File.ReadAllText(file))).Append('\n');
        }

        return text.ToString();
    });

    /// <summary>The code of every fenced <c>csharp</c> block, in page order.</summary>
    private static IEnumerable<string> CSharpBlocks(string markdown)
    {
        StringBuilder? block = null;
        foreach (string raw in markdown.ReplaceLineEndings("\n").Split('\n'))
        {
            string line = raw.Trim();
            if (block is null)
            {
                if (line is "```csharp" or "```cs" or "```c#")
                {
                    block = new StringBuilder();
                }
            }
            else if (line.StartsWith("```", StringComparison.Ordinal))
            {
                yield return block.ToString().Trim();
                block = null;
            }
            else
            {
                block.Append(raw).Append('\n');
            }
        }
    }

    /// <summary>Every run of whitespace becomes one space, so indentation and line breaks do not matter.</summary>
    private static string Normalise(string code) => Whitespace().Replace(code, " ").Trim();

    private static string FirstLine(string block) =>
        block.ReplaceLineEndings("\n").Split('\n').Select(l => l.Trim()).First(l => l.Length > 0);

    private static string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Funnel.Core.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Funnel.Core.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
