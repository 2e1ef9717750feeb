import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@flyte/idl',
    // The official flyteidl2 package ships .ts sources; Vite must transform them for Node.
    server: { deps: { inline: [/@flyteorg\/flyteidl2/] } },
  },
});
