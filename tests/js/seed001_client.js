const ws = new WebSocket('ws://localhost:8000/ws/users');

ws.onopen = () => {
    console.log('Connected to users channel');
};

ws.onmessage = (event) => {
    const data = JSON.parse(event.data);
    console.log('Received:', data);

    // Handle different event types
    switch(data.type) {
        case 'created':
            console.log('New user:', data.data);
            break;
        case 'updated':
            console.log('Updated user:', data.data);
            break;
        case 'deleted':
            console.log('Deleted user ID:', data.data.id);
            break;
    }
};

ws.onclose = () => {
    console.log('Disconnected');
};
