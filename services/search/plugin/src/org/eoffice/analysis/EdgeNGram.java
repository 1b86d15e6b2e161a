package org.eoffice.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenFilter;
import org.elasticsearch.plugin.Inject;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;
import org.elasticsearch.plugin.settings.AnalysisSettings;
import org.elasticsearch.plugin.settings.BooleanSetting;
import org.elasticsearch.plugin.settings.IntSetting;

/** Lucene's EdgeNGramTokenFilter: each token's prefixes, for suggestions as the user types. */
@NamedComponent("eoffice_edge_ngram")
public class EdgeNGram implements TokenFilterFactory {
    /** The filter's settings in the index's analysis block. */
    @AnalysisSettings
    public interface Settings {
        @IntSetting(path = "min_gram", defaultValue = 1)
        int minGram();

        @IntSetting(path = "max_gram", defaultValue = 20)
        int maxGram();

        @BooleanSetting(path = "preserve_original", defaultValue = true)
        boolean preserveOriginal();
    }

    private final int minGram;
    private final int maxGram;
    private final boolean preserveOriginal;

    @Inject
    public EdgeNGram(Settings settings) {
        this.minGram = settings.minGram();
        this.maxGram = settings.maxGram();
        this.preserveOriginal = settings.preserveOriginal();
    }

    @Override
    public TokenStream create(TokenStream input) {
        return new EdgeNGramTokenFilter(input, minGram, maxGram, preserveOriginal);
    }
}
