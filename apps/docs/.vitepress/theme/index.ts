import type { Theme } from 'vitepress';
import DefaultTheme from 'vitepress/theme';
import GraftDemo from './GraftDemo.vue';

export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('GraftDemo', GraftDemo);
  },
} satisfies Theme;
