package org.eoffice.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.KStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Lucene's KStem, a dictionary-checked English stemmer lighter than Porter; expects lower case. */
@NamedComponent("eoffice_english_light_stem")
public class EnglishLightStem implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new KStemFilter(input);
    }
}
